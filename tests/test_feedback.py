"""The SQLite feedback store: durability, privacy, retention, and degrading on a bad file."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.discord_app.store import FeedbackStore
from tests.conftest import ROOT

WRITER = """
import sys
from pathlib import Path
from bot.discord_app.store import FeedbackStore
store = FeedbackStore(Path(sys.argv[1]))
for n in range(1_000_000):
    if store.record_unanswered(n, f"question {n}", f"question {n}"):
        print(n, flush=True)
"""


def test_acknowledged_rows_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    acknowledged = -1
    deadline = time.monotonic() + 20
    while acknowledged < 300 and time.monotonic() < deadline:
        line = process.stdout.readline()
        if line:
            acknowledged = int(line)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    for line in process.stdout:  # rows acknowledged before the kill landed
        acknowledged = int(line)
    assert acknowledged >= 300
    store = FeedbackStore(path)
    assert store.available
    rows = store._read("SELECT COUNT(*), MAX(id) FROM unanswered")
    count = int(str(rows[0][0]))
    assert count >= acknowledged + 1
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


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
