"""A cached index patched with the articles that changed is the index a rebuild gives."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.engine import cache as cache_module
from bot.engine import update as update_module
from bot.engine.cache import load_index
from bot.engine.index import FactIndex
from bot.engine.knowledge import KnowledgeError
from bot.engine.matcher import Matcher

ARTICLES = {
    "harbour": (
        "Harbour board approves new ferry terminal\n\n"
        "The Marlow harbour board approved a new ferry terminal on Tuesday.\n\n"
        "Construction will begin in March and cost £42m, the board said.\n\n"
        "Gazette weekly round-up\n\n"
        "Chair Ines Okafor said the terminal would double passenger numbers. She expects it to open in 2027."
    ),
    "orchard": (
        "Cider makers report a record harvest\n\n"
        "Growers in the valley picked 9,000 tonnes of apples this autumn.\n\n"
        "Gazette weekly round-up\n\n"
        "The cooperative, led by Tomas Brandt, will export most of the juice to Norway."
    ),
    "library": (
        "Library reopens after flood repairs\n\n"
        "The central library reopened on Saturday after eight months of repairs.\n\n"
        "Gazette weekly round-up\n\n"
        "Volunteers dried 12,000 books, librarian Mei Tanaka said."
    ),
    "stadium": (
        "Stadium roof to be replaced\n\n"
        "The city council will replace the stadium roof before the next season.\n\n"
        "Engineers found rust in the steel beams during an inspection in June."
    ),
}

QUESTIONS = [
    "When will construction of the ferry terminal begin?",
    "How much will the terminal cost?",
    "Who leads the cooperative?",
    "Where will the juice be exported?",
    "How many books did volunteers dry?",
    "Why is the stadium roof being replaced?",
    "What did the council decide about the bridge?",
    "who is mei tanaka",
]


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    # As if written a while ago: a file changed in the last moments is always re-hashed.
    old = time.time() - 60
    os.utime(path, (old, old))


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    target.mkdir()
    for name, text in ARTICLES.items():
        write(target, f"{name}.txt", text)
    return target


def same_index(patched: FactIndex, rebuilt: FactIndex) -> None:
    """Everything answering reads from an index is the same in both."""
    assert [(f.id, f.kind, f.start, f.end, f.text) for f in patched.facts] == [
        (f.id, f.kind, f.start, f.end, f.text) for f in rebuilt.facts
    ]
    assert patched.knowledge.articles == rebuilt.knowledge.articles
    assert patched.match_texts == rebuilt.match_texts
    assert np.array_equal(patched.types, rebuilt.types)
    assert np.array_equal(patched.context, rebuilt.context)
    assert {t: p.tolist() for t, p in patched.postings.items()} == {t: p.tolist() for t, p in rebuilt.postings.items()}
    assert patched.words == rebuilt.words
    assert patched.names == rebuilt.names
    ours, theirs = Matcher(patched.knowledge, index=patched), Matcher(rebuilt.knowledge, index=rebuilt)
    assert [ours.answer(q) for q in QUESTIONS] == [theirs.answer(q) for q in QUESTIONS]


def patch_counter(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts full builds, so a test can tell a patch from a rebuild."""
    builds: list[int] = []
    original = FactIndex.from_folder.__func__  # type: ignore[attr-defined]

    def counted(cls: type[FactIndex], folder: Path) -> FactIndex:
        builds.append(1)
        return original(cls, folder)  # type: ignore[no-any-return]

    monkeypatch.setattr(FactIndex, "from_folder", classmethod(counted))
    return builds


@pytest.mark.parametrize("written", [False, True], ids=["patched-each-start", "merged-as-an-entry"])
def test_added_edited_and_removed_articles_are_patched_in(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: bool
) -> None:
    if not written:
        monkeypatch.setattr(cache_module, "_SMALL_FACTS", 0)  # as in an archive: the patch is not written
    cache = tmp_path / "cache"
    load_index(folder, cache)
    builds = patch_counter(monkeypatch)
    write(folder, "bridge.txt", "Council delays bridge vote\n\nThe council delayed its vote on the bridge until May.")
    write(folder, "orchard.txt", ARTICLES["orchard"].replace("Tomas Brandt", "Aoife Keane"))
    (folder / "stadium.txt").unlink()
    write(folder, "library.meta.toml", 'title = "Library reopens"\noutlet = "Marlow Gazette"\n')
    patched = load_index(folder, cache)
    assert builds == []  # patched, not rebuilt
    same_index(patched, FactIndex.from_folder(folder))
    assert "Aoife Keane" in patched.knowledge.facts_of("orchard")[-1].text
    # And again from the next start, which finds the same change.
    same_index(load_index(folder, cache), FactIndex.from_folder(folder))
    assert builds == [1, 1]  # only the two rebuilds made here to compare with


def test_a_change_that_moves_the_furniture_line_rebuilds(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    load_index(folder, cache)  # "Gazette weekly round-up" is in three articles: furniture
    builds = patch_counter(monkeypatch)
    write(folder, "library.txt", ARTICLES["library"].replace("Gazette weekly round-up\n\n", ""))
    index = load_index(folder, cache)  # now in two: a fact again in the other two
    assert builds == [1]
    same_index(index, FactIndex.from_folder(folder))
    assert any(fact.text == "Gazette weekly round-up" for fact in index.facts)


def test_a_file_changed_unseen_by_its_stat_data_is_read_again(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = folder / "stadium.txt"
    path.write_text(ARTICLES["stadium"], encoding="utf-8")  # changed just now
    load_index(folder, cache)
    info = path.stat()
    path.write_text(ARTICLES["stadium"].replace("June", "July"), encoding="utf-8")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # same size, time and inode
    # Changed within moments of the cached index, so its stat data are not trusted (git's rule).
    assert "July" in load_index(folder, cache).knowledge.facts_of("stadium")[-1].text


def test_an_unpatchable_base_is_rebuilt(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    load_index(folder, cache)
    for sources in cache.glob("index-*/sources.json"):
        sources.write_text("{not json", encoding="utf-8")
    write(folder, "bridge.txt", "Council delays bridge vote\n\nThe council delayed its vote on the bridge until May.")
    builds = patch_counter(monkeypatch)
    same_index(load_index(folder, cache), FactIndex.from_folder(folder))
    assert builds == [1, 1]


def test_a_broken_new_article_is_reported_as_a_rebuild_would(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_index(folder, cache)
    write(folder, "empty.txt", "   \n")
    with pytest.raises(KnowledgeError, match=r"empty\.txt: file is empty"):
        load_index(folder, cache)
    for path in folder.glob("*.txt"):
        path.unlink()
    with pytest.raises(KnowledgeError, match="no articles"):
        load_index(folder, cache)


def test_a_patch_looks_new_words_up_in_the_kept_dictionary(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simplemma

    from bot.engine import lexicon

    cache = tmp_path / "cache"
    load_index(folder, cache)
    assert len(list(cache.glob("simplemma-*/en.dic"))) == 1  # written after the full build
    write(folder, "quarry.txt", "Quarry reopens\n\nThe quarrymen were hauling granite blocks, the overseers said.")
    rebuilt = FactIndex.from_folder(folder)
    words = ["visited", "quarrymen", "hauling", "overseers", "better", "geese", "was", "criteria", "ishiba"]
    expected = [simplemma.lemmatize(word, lang="en") for word in words]
    # From here on simplemma's own dictionary is out of reach: every lemma not in the
    # cached table has to come from the trie, and must be the same.
    lexicon.lemma.cache_clear()
    lexicon._lemmatizer.cache_clear()

    def unavailable(*args: object, **kwargs: object) -> str:
        raise AssertionError("simplemma's dictionary was loaded")

    monkeypatch.setattr(simplemma, "lemmatize", unavailable)
    same_index(load_index(folder, cache), rebuilt)
    assert [lexicon._lemmatizer()(word) for word in words] == expected


def test_without_the_trie_extra_a_patch_uses_simplemmas_own_table(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simplemma.strategies.dictionaries import trie_dictionary_factory

    from bot.engine import lexicon

    monkeypatch.setattr(trie_dictionary_factory, "_TRIE_DEPS_AVAILABLE", False)  # as if marisa-trie were missing
    cache = tmp_path / "cache"
    load_index(folder, cache)
    assert not list(cache.glob("simplemma-*/en.dic"))
    write(folder, "quarry.txt", "Quarry reopens\n\nThe quarrymen were hauling granite blocks, the overseers said.")
    lexicon.lemma.cache_clear()
    lexicon._lemmatizer.cache_clear()
    same_index(load_index(folder, cache), FactIndex.from_folder(folder))


def test_a_slow_patch_is_written_so_the_next_start_does_not_parse_it_again(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "_SMALL_FACTS", 0)  # as in an archive: a quick patch is not written
    cache = tmp_path / "cache"
    load_index(folder, cache)
    patch = update_module.patch
    patched: list[int] = []

    def slow_patch(*args: Any, **kwargs: Any) -> FactIndex | None:
        patched.append(1)
        time.sleep(cache_module._SLOW_PATCH_SECONDS)  # as a large article takes to parse
        return patch(*args, **kwargs)

    monkeypatch.setattr(update_module, "patch", slow_patch)
    write(folder, "bridge.txt", "Council delays bridge vote\n\nThe council delayed its vote on the bridge until May.")
    load_index(folder, cache)
    assert patched == [1]
    again = load_index(folder, cache)  # the next start reads the entry the slow patch wrote
    assert patched == [1]
    assert any("delayed its vote" in fact.text for fact in again.facts)
