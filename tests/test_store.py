"""The feedback store's two implementations, run through the same tests: SQLite always,
PostgreSQL when ``QABOT_TEST_DATABASE_URL`` points at a server (``.ci/run`` starts one)."""

from __future__ import annotations

import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.discord_app.store import FeedbackStore, open_store
from tests.conftest import ROOT

SERVER = os.environ.get("QABOT_TEST_DATABASE_URL", "")


@pytest.fixture(params=["sqlite", "postgres"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str | None, Path]]:
    """(database URL or None, SQLite path) of a fresh, empty database."""
    if request.param == "sqlite":
        yield None, tmp_path / "db.sqlite3"
        return
    if not SERVER:
        pytest.skip("QABOT_TEST_DATABASE_URL is not set: no PostgreSQL server to test against")
    import psycopg

    name = f"qabot_test_{secrets.token_hex(6)}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}".encode())
    base, _, _ = SERVER.rpartition("/")
    try:
        yield f"{base}/{name}", tmp_path / "unused.sqlite3"
    finally:
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())


def opened(where: tuple[str | None, Path], **options: float) -> FeedbackStore:
    url, path = where
    store = open_store(url, path, log_questions=True, retention_days=float(options.get("retention_days", 0)))
    assert store.available
    return store


WRITER = """
import sys
from pathlib import Path
from bot.discord_app.store import open_store
url = sys.argv[1] or None
store = open_store(url, Path(sys.argv[2]), log_questions=True, retention_days=0)
assert store.available
for n in range(int(sys.argv[3]), int(sys.argv[3]) + int(sys.argv[4])):
    if store.record_unanswered(n, f"question {n}", f"question {n}"):
        print(n, flush=True)
"""


def writer(where: tuple[str | None, Path], first: int, count: int) -> subprocess.Popen[str]:
    url, path = where
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, url or "", str(path), str(first), str(count)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_acknowledged_rows_survive_kill_9(where: tuple[str | None, Path]) -> None:
    process = writer(where, 0, 1_000_000)
    assert process.stdout is not None
    acknowledged = -1
    deadline = time.monotonic() + 30
    while acknowledged < 200 and time.monotonic() < deadline:
        line = process.stdout.readline()
        if line:
            acknowledged = int(line)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    for line in process.stdout:  # rows acknowledged before the kill landed
        acknowledged = int(line)
    assert acknowledged >= 200
    rows = opened(where)._read("SELECT COUNT(*) FROM unanswered")
    assert int(str(rows[0][0])) >= acknowledged + 1
    url, path = where
    if url is None:  # SQLite: the file is whole, in write-ahead-log mode
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_two_processes_write_at_once(where: tuple[str | None, Path]) -> None:
    opened(where)  # the schema exists before both start
    first, second = writer(where, 0, 150), writer(where, 1000, 150)
    outputs = [process.communicate(timeout=60)[0].split() for process in (first, second)]
    assert [len(lines) for lines in outputs] == [150, 150]
    rows = opened(where)._read("SELECT COUNT(*) FROM unanswered")
    assert int(str(rows[0][0])) == 300


def test_migrations_run_once_and_the_salt_is_shared(where: tuple[str | None, Path]) -> None:
    one, two = opened(where), opened(where)
    assert one.schema_versions() == two.schema_versions() == [1]
    assert one.user_hash(42) == two.user_hash(42) != one.user_hash(43)
    one.record_vote(42, 7, "a:p1.s1", "question", True)
    assert two.votes() == [("a:p1.s1", 1)]


def test_unanswered_are_grouped_and_old_rows_pruned(where: tuple[str | None, Path]) -> None:
    store = opened(where, retention_days=30)
    for user in range(3):
        store.record_unanswered(user, "Who won?", "who won")
    store.record_unanswered(9, "What time?", "what time")
    assert store.top_unanswered(5) == [("Who won?", 3), ("What time?", 1)]
    store.prune(now=time.time() + 31 * 86400)
    assert store.top_unanswered(5) == []
    assert store.get_meta("missing") is None and store.set_meta("k", "v") and store.get_meta("k") == "v"


def test_an_unreachable_server_turns_the_store_off_without_leaking_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = open_store(
        "postgresql://qabot:s3cret-pw@127.0.0.1:9/qabot", Path("unused"), log_questions=True, retention_days=0
    )
    assert not store.available and not store.record_vote(1, None, "a:p1.s1", "q", True)
    assert "unavailable" in caplog.text and "s3cret-pw" not in caplog.text
