"""The SQLite feedback store: durability, privacy, retention, and degrading on a bad file."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from bot.discord_app.store import FeedbackStore


def test_user_ids_are_hashed_and_salted(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "db.sqlite3")
    store.record_vote(123456789, 1, "a:p1.s1", "question", True)
    store.record_unanswered(123456789, "q", "q")
    dump = "\n".join(sqlite3.connect(tmp_path / "db.sqlite3").iterdump())
    assert "123456789" not in dump
    other = FeedbackStore(tmp_path / "other.sqlite3")
    assert store.user_hash(123456789) != other.user_hash(123456789)


def test_retention_deletes_old_rows(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "db.sqlite3", retention_days=30)
    store.record_unanswered(1, "old question", "old question")
    store.record_vote(1, None, "a:p1.s1", "old", False)
    store.prune(now=time.time() + 31 * 86400)
    assert store.top_unanswered() == []
    assert store.votes() == []


def test_top_unanswered_groups_the_same_question(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "db.sqlite3")
    for user in range(3):
        store.record_unanswered(user, "Who won?", "who won?")
    store.record_unanswered(9, "Where?", "where?")
    assert store.top_unanswered() == [("Who won?", 3), ("Where?", 1)]


def test_a_corrupt_file_degrades_feedback_with_a_logged_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    store = FeedbackStore(path)
    assert not store.available
    assert store.record_vote(1, None, "a:p1.s1", "q", True) is False
    assert store.top_unanswered() == []
    assert "unavailable" in caplog.text


def test_a_locked_database_fails_writes_without_raising(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "db.sqlite3"
    store = FeedbackStore(path)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        assert store.record_unanswered(1, "q", "q") is False
        assert time.monotonic() - started < 10
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert "write failed" in caplog.text
    assert store.record_unanswered(1, "q", "q") is True
