from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bot.engine import cache as cache_module
from bot.engine.cache import cache_key, load_index, read_entry, write_entry
from bot.engine.index import FactIndex, Texts
from bot.engine.knowledge import FactTable, Knowledge, KnowledgeError
from bot.engine.matcher import Matcher
from bot.engine.parsing import parse_article
from tests.conftest import FIXTURES, KNOWLEDGE


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def entries(cache: Path) -> list[Path]:
    return sorted(path for path in cache.glob("index-*") if path.is_dir())


def test_the_cache_is_written_then_read(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    first = load_index(folder, cache)
    assert len(entries(cache)) == 1

    def no_rebuild(cls: type[FactIndex], folder: Path) -> FactIndex:
        raise AssertionError("the index was rebuilt")

    monkeypatch.setattr(FactIndex, "from_folder", classmethod(no_rebuild))
    second = load_index(folder, cache)
    assert second.knowledge == first.knowledge
    assert second.match_texts == first.match_texts
    assert {term: list(found) for term, found in second.postings.items()} == {
        term: list(found) for term, found in first.postings.items()
    }
    # Answers from the cached index are the answers from the built one.
    questions = [
        "Will Lee meet Donald Trump?",
        "Who is the foreign minister?",
        "teritorial disputs",
        "capital of France",
    ]
    built, cached = Matcher(first.knowledge, index=first), Matcher(second.knowledge, index=second)
    assert [built.answer(q) for q in questions] == [cached.answer(q) for q in questions]


def test_a_cached_archive_finds_facts_by_id_without_making_them_all(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    built = load_index(folder, cache).knowledge
    cached = load_index(folder, cache).knowledge
    table = cached.facts
    assert isinstance(table, FactTable)
    for fact in list(built.facts)[::3]:
        assert cached.fact(fact.id) == fact
    for article_id in built.articles:
        assert cached.facts_of(article_id) == built.facts_of(article_id)
    assert cached.fact("ishiba-lee-summit:p99.s1") is None
    assert cached.fact("no-such-article:p1.s1") is None
    assert cached.fact("not an id") is None
    fresh = load_index(folder, cache).knowledge
    assert isinstance(fresh.facts, FactTable)
    fresh.fact("ishiba-lee-summit:p2.s1")
    made = sum(item is not None for item in fresh.facts._made)
    assert made == 1  # the others stay columns


def test_the_cache_is_data_not_code(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_index(folder, cache)
    (entry,) = entries(cache)
    assert sorted(path.name for path in entry.iterdir()) == ["arrays.npz", "digests.json", "index.json", "sources.json"]
    assert json.loads((entry / "index.json").read_text(encoding="utf-8"))["format"] == cache_module.FORMAT
    with np.load(entry / "arrays.npz", allow_pickle=False) as arrays:
        assert arrays["types"].dtype == np.uint8


def test_an_edited_article_is_not_served_from_the_cache(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_index(folder, cache)
    article = folder / "ishiba-lee-summit.txt"
    article.write_text(article.read_text(encoding="utf-8") + "\n\nA new closing sentence.\n", encoding="utf-8")
    rebuilt = load_index(folder, cache)
    assert rebuilt.facts[-1].text == "A new closing sentence."
    assert len(entries(cache)) == 2  # the earlier version is kept too, within the cap


def test_switching_between_folders_does_not_rebuild(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(FIXTURES / "port-strike.txt", other / "port-strike.txt")
    cache = tmp_path / "cache"
    builds = []
    original = FactIndex.from_folder.__func__  # type: ignore[attr-defined]

    def counting(cls: type[FactIndex], path: Path) -> FactIndex:
        builds.append(path)
        return original(cls, path)  # type: ignore[no-any-return]

    monkeypatch.setattr(FactIndex, "from_folder", classmethod(counting))
    for path in (folder, other, folder, other):
        load_index(path, cache)
    assert builds == [folder, other]


def test_old_entries_are_pruned(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "KEEP", 2)
    cache = tmp_path / "cache"
    article = folder / "ishiba-lee-summit.txt"
    for number in range(4):
        article.write_text(article.read_text(encoding="utf-8") + f"\n\nEdit number {number}.\n", encoding="utf-8")
        load_index(folder, cache)
    assert len(entries(cache)) == 2
    assert load_index(folder, cache).facts[-1].text == "Edit number 3."


def test_a_damaged_cache_is_rebuilt(folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "cache"
    load_index(folder, cache)
    (entry,) = entries(cache)
    (entry / "arrays.npz").write_bytes(b"not an archive")
    index = load_index(folder, cache)
    assert len(index.facts) == 10
    assert "unreadable index cache" in caplog.text
    assert read_entry(entries(cache)[0]).knowledge == index.knowledge  # and written again


def test_writers_of_the_same_entry_do_not_collide(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    index = FactIndex.from_folder(folder)
    write_entry(cache, "index-same", index)
    write_entry(cache, "index-same", index)  # a second writer finds the entry there
    assert [path.name for path in cache.iterdir()] == ["index-same"]  # no partial folder left
    assert read_entry(cache / "index-same").knowledge == index.knowledge


def test_the_cache_key_follows_the_format(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = cache_key(folder)
    monkeypatch.setattr(cache_module, "FORMAT", cache_module.FORMAT + 1)
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


def test_a_huge_file_is_refused_before_it_is_read(folder: Path, tmp_path: Path) -> None:
    import tracemalloc

    from bot.engine.knowledge import KnowledgeError

    with (folder / "dump.txt").open("wb") as out:
        out.truncate(2_000_000_000)  # sparse: takes no disk
    tracemalloc.start()
    try:
        assert cache_key(folder) == ""  # nothing is cached for a folder that cannot load
        with pytest.raises(KnowledgeError, match=r"dump\.txt: file is 2,000,000,000 bytes"):
            load_index(folder, tmp_path / "cache")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000, f"{peak:,} bytes were allocated"


_BUILD = """
import sys
from pathlib import Path
from bot.engine.cache import load_index
index = load_index(Path(sys.argv[1]), Path(sys.argv[2]))
print(len(index.facts))
"""


def test_processes_building_the_cache_at_once_leave_it_whole(folder: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    cache = tmp_path / "cache"
    for _ in range(2):
        shutil.rmtree(cache, ignore_errors=True)
        builders = [
            subprocess.Popen([sys.executable, "-c", _BUILD, str(folder), str(cache)], stdout=subprocess.PIPE, text=True)
            for _ in range(6)
        ]
        outputs = [builder.communicate(timeout=120)[0].strip() for builder in builders]
        assert outputs == ["10"] * 6
        assert not [path for path in cache.iterdir() if path.name.startswith(".")]  # no partial left
        assert len(entries(cache)) == 1
        (entry,) = entries(cache)
        assert len(read_entry(entry).facts) == 10


def test_unchanged_files_are_not_read_again_to_find_their_entry(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import time

    cache = tmp_path / "cache"
    settled = time.time() - 60
    for path in folder.iterdir():
        os.utime(path, (settled, settled))
    first = load_index(folder, cache)
    monkeypatch.setattr(cache_module, "cache_key", lambda folder: pytest.fail("the files were hashed again"))
    assert load_index(folder, cache).knowledge == first.knowledge
    # An edited file changes its stat data, so its contents are hashed again.
    monkeypatch.undo()
    article = folder / "ishiba-lee-summit.txt"
    article.write_text(article.read_text(encoding="utf-8") + "\n\nA closing line.\n", encoding="utf-8")
    assert load_index(folder, cache).facts[-1].text == "A closing line."


def test_texts_are_decoded_one_at_a_time_and_cut_and_joined_as_bytes() -> None:
    strings = ["", " lee visit japan ", " 東京 café ", "x"]
    texts = Texts.of(strings)
    assert len(texts) == 4 and list(texts) == strings and texts == strings
    assert texts[1] == " lee visit japan " and texts[-1] == "x" and texts[1:3] == strings[1:3]
    assert texts.part(1, 3) == strings[1:3] and texts.part(2, 2) == []
    joined = Texts.join([texts.part(2, 4), Texts.of(["new"]), texts.part(0, 2)])
    assert joined == [*strings[2:4], "new", *strings[0:2]]
    assert texts != ["", " lee visit japan ", " 東京 café "]


# -- a cache that never lies (third reliability pass) ------------------------------------


def _aged(path: Path, seconds: float = 10.0) -> None:
    """Set a file's times back, as if written a while ago (past the racy window)."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - int(seconds * 1e9)))


def test_a_file_written_while_the_index_is_built_is_not_cached_with_its_old_digest(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    article = folder / "ishiba-lee-summit.txt"
    original = article.read_bytes()
    digests = cache_module.file_digests

    def hashed_then_edited(folder: Path, names: list[str]) -> list[tuple[str, str]] | None:
        found = digests(folder, names)
        article.write_bytes(original + b"\n\nA sentence written during the build.\n")  # before it is parsed
        return found

    monkeypatch.setattr(cache_module, "file_digests", hashed_then_edited)
    assert load_index(folder, cache).facts[-1].text == "A sentence written during the build."
    monkeypatch.undo()
    article.write_bytes(original)  # the edit taken back
    texts = [fact.text for fact in load_index(folder, cache).facts]
    assert "A sentence written during the build." not in texts
    assert all(fact.end <= len(original.decode()) for fact in load_index(folder, cache).facts)


def test_a_same_size_edit_that_keeps_the_modification_time_is_seen(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    article = folder / "ishiba-lee-summit.txt"
    _aged(article)
    text = article.read_text(encoding="utf-8")
    assert load_index(folder, cache)  # cached, with its stat record
    before = article.stat()
    article.write_text(text.replace("Shigeru Ishiba", "Shigeru Ishibb"), encoding="utf-8")
    os.utime(article, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same time
    assert article.stat().st_size == before.st_size
    assert any("Ishibb" in fact.text for fact in load_index(folder, cache).facts)


def test_an_edited_index_json_is_not_trusted(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    built = load_index(folder, cache)
    (entry,) = entries(cache)
    document = json.loads((entry / "index.json").read_text(encoding="utf-8"))
    document["articles"][0][1] = "A title nobody wrote"  # still valid JSON
    (entry / "index.json").write_text(json.dumps(document), encoding="utf-8")
    again = load_index(folder, cache)
    assert [article.title for article in again.knowledge.articles.values()] == [
        article.title for article in built.knowledge.articles.values()
    ]


def test_a_load_timeout_while_reading_the_cache_keeps_the_entry(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    load_index(folder, cache)
    (entry,) = entries(cache)

    def timed_out(entry: Path) -> FactIndex:
        raise KnowledgeError("loading took longer than 0.05 s (QABOT_LOAD_TIMEOUT)")

    monkeypatch.setattr(cache_module, "read_entry", timed_out)
    with pytest.raises(KnowledgeError, match=r"0\.05 s"):
        load_index(folder, cache)
    assert entries(cache) == [entry]


def test_what_killed_writes_left_is_cleaned(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    stale_folder = cache / ".index-abc.x1y2z3"
    stale_folder.mkdir()
    (stale_folder / "index.json").write_text("{}")
    stale_record = cache / ".stat-abc.1234"
    stale_record.write_text("x")
    fresh = cache / ".index-def.q1w2e3"  # a write in progress elsewhere
    fresh.mkdir()
    for path in (stale_folder, stale_record):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    load_index(folder, cache)
    assert not stale_folder.exists() and not stale_record.exists()
    assert fresh.exists()


def test_a_fifo_in_the_cache_folder_is_not_waited_on(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_index(folder, cache)
    (entry,) = entries(cache)
    (entry / "index.json").unlink()
    os.mkfifo(entry / "index.json")
    for record in cache.glob("stat-*"):
        record.unlink()
        os.mkfifo(record)
    done = threading.Event()
    found: list[FactIndex] = []

    def load() -> None:
        found.append(load_index(folder, cache))
        done.set()

    threading.Thread(target=load, daemon=True).start()
    assert done.wait(30), "loading hung on a FIFO"
    assert found[0].facts


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_build_workers_end_with_a_killed_parent(tmp_path: Path, how: int) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    text = (KNOWLEDGE / "ishiba-lee-summit.txt").read_text(encoding="utf-8")
    for number in range(600):  # enough to be parsed on several processes
        (folder / f"a{number:04d}.txt").write_text(text, encoding="utf-8")
    script = (
        "import sys; from pathlib import Path; from bot.engine.index import FactIndex; "
        "FactIndex.from_folder(Path(sys.argv[1]))"
    )
    parent = subprocess.Popen([sys.executable, "-c", script, str(folder)], cwd=KNOWLEDGE.parent)
    children: list[int] = []
    deadline = time.monotonic() + 60
    while not children and time.monotonic() < deadline and parent.poll() is None:
        time.sleep(0.05)
        children = _children(parent.pid)
    assert children, "the build started no workers"
    parent.send_signal(how)
    parent.wait(30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
