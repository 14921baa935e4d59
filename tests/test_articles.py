"""Adding and removing articles: checks, the folder lock, a read-only folder."""

from __future__ import annotations

import errno
import multiprocessing
import os
from pathlib import Path

import pytest

from bot import articles
from bot.articles import add_article, remove_article
from bot.engine import folder as folder_module
from bot.engine.folder import file_names, load_knowledge
from bot.engine.knowledge import ARTICLE_SUFFIXES, KnowledgeError

STORY = b"Harbour reopens\n\nThe harbour at Marlow reopened on Monday after a month of repairs.\n"


def _add(folder: str, name: str, data: bytes, results: multiprocessing.Queue[str]) -> None:
    try:
        add_article(Path(folder), name, data, limit=1_000_000)
        results.put("added")
    except KnowledgeError as exc:
        results.put(f"refused: {exc}")


def test_two_adds_of_one_article_at_once_add_it_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[str] = context.Queue()
    workers = [
        context.Process(target=_add, args=(str(tmp_path), name, STORY, results))
        for name in ("marlow.txt", "Marlow.html", "marlow.md", "MARLOW.txt") * 2
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    outcomes = [results.get(timeout=5) for _ in workers]
    assert outcomes.count("added") == 1, outcomes
    assert len(file_names(tmp_path, ARTICLE_SUFFIXES)) == 1
    assert list(load_knowledge(tmp_path).articles) == ["marlow"]


def test_adding_never_replaces_a_file_that_appeared_meanwhile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = folder_module.file_names

    def listed_then_written(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
        found = names(folder, suffixes)
        (tmp_path / "marlow.txt").write_bytes(b"Written by hand.\n\nA sentence of its own.\n")
        return found

    monkeypatch.setattr(articles, "file_names", listed_then_written)
    with pytest.raises(KnowledgeError, match="exists already"):
        add_article(tmp_path, "marlow.txt", STORY, limit=1_000_000)
    assert (tmp_path / "marlow.txt").read_bytes().startswith(b"Written by hand.")
    assert not [path for path in os.listdir(tmp_path) if path.endswith(".partial")]


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_a_read_only_folder_is_named_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    add_article(tmp_path, "marlow.txt", STORY, limit=1_000_000)
    opened = os.open

    def read_only(path: str | os.PathLike[str], flags: int, mode: int = 0o777) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(code, os.strerror(code), str(path))
        return opened(path, flags, mode)

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(KnowledgeError, match="read-only") as raised:
        add_article(tmp_path, "other.txt", STORY, limit=1_000_000)
    assert "\n" not in str(raised.value)
    with pytest.raises(KnowledgeError, match="read-only"):
        remove_article(tmp_path, "marlow")
