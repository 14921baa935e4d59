from __future__ import annotations

import shutil
import types
from pathlib import Path

import pytest

from bot import index as index_module
from bot.index import cache_key, load_index
from bot.knowledge import Knowledge, parse_article
from bot.matcher import Matcher
from tests.conftest import KNOWLEDGE


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def test_the_cache_is_written_then_read(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = load_index(folder, cache)
    assert len(list(cache.glob("index-*.pickle"))) == 1
    second = load_index(folder, cache)
    assert [fact.id for fact in second.facts] == [fact.id for fact in first.facts]


def test_an_edited_article_is_not_served_from_the_cache(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_index(folder, cache)
    article = folder / "ishiba-lee-summit.txt"
    article.write_text(article.read_text(encoding="utf-8") + "\n\nA new closing sentence.\n", encoding="utf-8")
    rebuilt = load_index(folder, cache)
    assert rebuilt.facts[-1].text == "A new closing sentence."
    assert len(list(cache.glob("index-*.pickle"))) == 1  # the older index was removed


def test_a_damaged_cache_is_rebuilt(folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "cache"
    load_index(folder, cache)
    (damaged,) = cache.glob("index-*.pickle")
    damaged.write_bytes(b"not a pickle")
    index = load_index(folder, cache)
    assert len(index.facts) == 10
    assert "unreadable index cache" in caplog.text


def test_the_cache_key_follows_the_index_code(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "module.py"
    source.write_text("VERSION = 1\n", encoding="utf-8")
    monkeypatch.setattr(index_module, "_INDEX_CODE", (types.SimpleNamespace(__file__=str(source)),))
    before = cache_key(folder)
    source.write_text("VERSION = 2\n", encoding="utf-8")
    assert cache_key(folder) != before


def test_a_sentence_opening_with_they_holds_the_paragraph_before() -> None:
    # News paragraphs are often one sentence long; "They" reaches back across the break.
    text = (
        "Ministers Alvarez and Brandt met in Lisbon on Monday.\n\n"
        "They agreed to extend the fishing quota by two years.\n\n"
        "Fishing crews welcomed the decision."
    )
    article, facts = parse_article("quota", text)
    matcher = Matcher(Knowledge(articles={article.id: article}, facts=tuple(facts), aliases=()))
    answer = matcher.answer("What did Alvarez and Brandt agree to?")
    assert answer.answered
    assert answer.facts[0].fact.id == "quota:p2.s1"
    # A sentence that does not refer back takes nothing from the paragraph before.
    query = matcher.analyse("Did Alvarez welcome the decision?")
    row = next(row for row in matcher.rank(query) if matcher.facts[row.fact_index].id == "quota:p3.s1")
    assert row.strengths[0] == 0.0


def test_a_fact_survives_pickling_as_a_model(seed) -> None:  # type: ignore[no-untyped-def]
    import pickle

    from bot.answer import ScoredFact

    fact = seed.facts[0]
    restored = pickle.loads(pickle.dumps(fact))
    assert restored == fact and hash(restored) == hash(fact)
    assert restored.model_dump() == fact.model_dump()
    assert restored.model_fields_set == fact.model_fields_set
    assert ScoredFact(fact=restored, score=1.0).fact.id == fact.id
    with pytest.raises(ValueError):
        restored.text = "changed"  # still frozen
