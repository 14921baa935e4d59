"""The feedback store: votes on answers, unanswered questions and small bot state.

Two implementations of one interface: :class:`FeedbackStore` in an SQLite file (the
default, no server needed) and :class:`PostgresStore` (``QABOT_DATABASE_URL``), which
several bot processes, on one machine or several, can share. Each commits every write
at once, so an acknowledged row survives a crash of the process; the schema is a list
of numbered migrations, applied once each and recorded in ``schema_versions``. User ids
are stored only as salted hashes. When the database cannot be opened or written, the
store logs the error and turns itself off: the bot goes on answering, without feedback.
The bot uses a store through :class:`OffLoopStore`, which keeps every database call off
the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

# How often, in seconds, old rows are looked for while the bot runs.
_PRUNE_EVERY = 3600.0

# The schema, as numbered migrations for each database; a new change is a new number.
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS votes (
    id {serial} PRIMARY KEY,
    at {real} NOT NULL,
    user_hash TEXT NOT NULL,
    message_id {bigint},
    fact_id TEXT NOT NULL,
    question TEXT NOT NULL,
    vote INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS unanswered (
    id {serial} PRIMARY KEY,
    at {real} NOT NULL,
    user_hash TEXT NOT NULL,
    question TEXT NOT NULL,
    normalized TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS unanswered_normalized ON unanswered (normalized);
"""
SQLITE_MIGRATIONS = ((1, _TABLES.format(serial="INTEGER", real="REAL", bigint="INTEGER")),)
POSTGRES_MIGRATIONS = ((1, _TABLES.format(serial="BIGSERIAL", real="DOUBLE PRECISION", bigint="BIGINT")),)
_VERSIONS = "CREATE TABLE IF NOT EXISTS schema_versions (version INTEGER PRIMARY KEY, applied {real} NOT NULL)"


class FeedbackStore:
    """Feedback and unanswered questions, kept in one SQLite file."""

    # The open connection (an SQLite or a psycopg one), None when the store is off.
    _db: Any

    def __init__(self, path: Path, *, log_questions: bool = True, retention_days: float = 0) -> None:
        self.path = path
        self._setup(log_questions, retention_days)
        try:
            if path.parent and not path.parent.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=2.0, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute(_VERSIONS.format(real="REAL"))
            db.execute("BEGIN IMMEDIATE")  # one process migrates at a time
            try:
                done = {int(row[0]) for row in db.execute("SELECT version FROM schema_versions")}
                for version, script in SQLITE_MIGRATIONS:
                    if version not in done:
                        for statement in _statements(script):
                            db.execute(statement)
                        db.execute("INSERT INTO schema_versions VALUES (?, ?)", (version, time.time()))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._db = db
            self._start()
        except (sqlite3.Error, OSError) as exc:
            log.error("feedback store %s is unavailable, answering without it: %s", path, exc)
            self._db = None

    def _setup(self, log_questions: bool, retention_days: float) -> None:
        self.log_questions = log_questions
        self.retention_days = retention_days
        self._pruned_at = 0.0
        self._lock = threading.Lock()
        self._db = None
        self._salt = ""

    def _start(self) -> None:
        """The salt for user ids (made once, by whichever process comes first), and a prune."""
        self._write(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
            ("user_salt", secrets.token_hex(16)),
        )
        self._salt = self.get_meta("user_salt") or ""
        self.prune()

    @property
    def available(self) -> bool:
        return self._db is not None

    def schema_versions(self) -> list[int]:
        return [int(str(row[0])) for row in self._read("SELECT version FROM schema_versions ORDER BY version")]

    def user_hash(self, user_id: int) -> str:
        return hashlib.sha256(f"{self._salt}:{user_id}".encode()).hexdigest()[:32]

    # Errors of the database driver, and its parameter placeholder.
    _errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def _sql(self, sql: str) -> str:
        return sql

    def _write(self, sql: str, params: tuple[object, ...]) -> bool:
        if self._db is None:
            return False
        try:
            with self._lock:
                self._db.execute(self._sql(sql), params)
            return True
        except self._errors as exc:
            log.error("feedback store write failed: %s", exc)
            return False

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        if self._db is None:
            return []
        try:
            with self._lock:
                return list(self._db.execute(self._sql(sql), params).fetchall())
        except self._errors as exc:
            log.error("feedback store read failed: %s", exc)
            return []

    def prune(self, now: float | None = None) -> None:
        """Delete votes and questions older than the retention period (0 keeps everything)."""
        if self.retention_days <= 0:
            return
        now = time.time() if now is None else now
        cutoff = now - self.retention_days * 86400
        for table in ("votes", "unanswered"):
            self._write(f"DELETE FROM {table} WHERE at < ?", (cutoff,))
        self._pruned_at = now

    def _maybe_prune(self) -> None:
        if self.retention_days > 0 and time.time() - self._pruned_at > _PRUNE_EVERY:
            self.prune()

    def get_meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> bool:
        return self._write(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def record_vote(self, user_id: int, message_id: int | None, fact_id: str, question: str, up: bool) -> bool:
        self._maybe_prune()
        return self._write(
            "INSERT INTO votes (at, user_hash, message_id, fact_id, question, vote) VALUES (?, ?, ?, ?, ?, ?)",
            (time.time(), self.user_hash(user_id), message_id, fact_id, question, 1 if up else -1),
        )

    def record_unanswered(self, user_id: int, question: str, normalized: str) -> bool:
        if not self.log_questions:
            return False
        self._maybe_prune()
        return self._write(
            "INSERT INTO unanswered (at, user_hash, question, normalized) VALUES (?, ?, ?, ?)",
            (time.time(), self.user_hash(user_id), question, normalized),
        )

    def top_unanswered(self, limit: int = 10) -> list[tuple[str, int]]:
        """The most frequent unanswered questions: (an example wording, count)."""
        rows = self._read(
            "SELECT MAX(question), COUNT(*) AS n FROM unanswered GROUP BY normalized"
            " ORDER BY n DESC, MAX(at) DESC LIMIT ?",
            (limit,),
        )
        return [(str(question), int(str(count))) for question, count in rows]

    def votes(self) -> list[tuple[str, int]]:
        return [(str(f), int(str(v))) for f, v in self._read("SELECT fact_id, vote FROM votes ORDER BY id")]

    def close(self) -> None:
        if self._db is not None:
            with self._lock:
                self._db.close()
            self._db = None


def _statements(script: str) -> list[str]:
    return [statement.strip() for statement in script.split(";") if statement.strip()]


class PostgresStore(FeedbackStore):
    """The same store in PostgreSQL (``QABOT_DATABASE_URL``), shared by bot processes."""

    def __init__(self, url: str, *, log_questions: bool = True, retention_days: float = 0) -> None:
        import psycopg

        self.url = url
        self._errors = (psycopg.Error,)
        self._setup(log_questions, retention_days)
        try:
            db = psycopg.connect(url, autocommit=True, connect_timeout=5)
            with db.transaction():
                # One process migrates at a time; the others find the work done.
                db.execute("SELECT pg_advisory_xact_lock(7416391)")
                db.execute(_VERSIONS.format(real="DOUBLE PRECISION"))
                done = {int(row[0]) for row in db.execute("SELECT version FROM schema_versions").fetchall()}
                for version, script in POSTGRES_MIGRATIONS:
                    if version not in done:
                        for statement in _statements(script):
                            db.execute(statement.encode())  # no parameters: kept as written
                        db.execute("INSERT INTO schema_versions VALUES (%s, %s)", (version, time.time()))
            self._db = db
            self._start()
        except psycopg.Error as exc:
            log.error("feedback store %s is unavailable, answering without it: %s", _without_password(url), exc)
            self._db = None

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")


def _without_password(url: str) -> str:
    """``url`` safe to log: a password in it is replaced."""
    return re.sub(r"(//[^:/@]+):[^@/]*@", r"\1:***@", url)


def open_store(url: str | None, path: Path, *, log_questions: bool, retention_days: float) -> FeedbackStore:
    """PostgreSQL when ``url`` is given, else the SQLite file at ``path``."""
    if url:
        return PostgresStore(url, log_questions=log_questions, retention_days=retention_days)
    return FeedbackStore(path, log_questions=log_questions, retention_days=retention_days)


class OffLoopStore:
    """The store's operations for the event loop: each runs on one worker thread, so a slow
    or locked database never blocks the loop. An awaited operation waits at most
    ``timeout`` seconds; a write nobody waits for (an unanswered question) is queued, and
    dropped with a logged warning beyond ``backlog`` queued writes."""

    def __init__(self, store: FeedbackStore, *, timeout: float = 2.5, backlog: int = 1000) -> None:
        self.sync = store
        self.timeout = timeout
        self.backlog = backlog
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feedback-store")
        self._queued = 0
        self._queued_lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self.sync.available

    async def _call(self, function: Callable[..., T], *args: object, default: T) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._worker, function, *args), self.timeout)
        except TimeoutError:
            log.error("feedback store did not answer within %.1f s", self.timeout)
            return default

    async def record_vote(self, user_id: int, message_id: int | None, fact_id: str, question: str, up: bool) -> bool:
        return await self._call(self.sync.record_vote, user_id, message_id, fact_id, question, up, default=False)

    def record_unanswered(self, user_id: int, question: str, normalized: str) -> None:
        """Queue the question for storing; returns at once."""
        if not self.sync.available or not self.sync.log_questions:
            return
        with self._queued_lock:
            if self._queued >= self.backlog:
                log.warning(
                    "feedback store is behind by %d writes; an unanswered question was not stored", self._queued
                )
                return
            self._queued += 1
        self._worker.submit(self._store_unanswered, user_id, question, normalized)

    def _store_unanswered(self, user_id: int, question: str, normalized: str) -> None:
        try:
            self.sync.record_unanswered(user_id, question, normalized)
        finally:
            with self._queued_lock:
                self._queued -= 1

    async def top_unanswered(self, limit: int = 10) -> list[tuple[str, int]] | None:
        """The most frequent unanswered questions, or None when the database does not answer."""
        return await self._call(self.sync.top_unanswered, limit, default=None)

    async def get_meta(self, key: str) -> str | None:
        return await self._call(self.sync.get_meta, key, default=None)

    async def set_meta(self, key: str, value: str) -> bool:
        return await self._call(self.sync.set_meta, key, value, default=False)

    def drain(self) -> None:
        """Wait (blocking) until the writes queued so far are done."""
        self._worker.submit(lambda: None).result()

    async def aclose(self, timeout: float = 5.0) -> None:
        """Finish the queued writes (for at most ``timeout`` seconds), then close the database."""
        try:
            await asyncio.wait_for(asyncio.to_thread(self._worker.shutdown, True), timeout)
        except TimeoutError:
            log.error("feedback store still busy after %.0f s; dropping %d queued writes", timeout, self._queued)
            self._worker.shutdown(wait=False, cancel_futures=True)
        self.sync.close()


def backup(source: Path, target: Path) -> tuple[int, int]:
    """Copy the database at ``source`` to ``target`` with SQLite's online backup, safe
    while the bot writes to it; returns the votes and stored questions copied."""
    partial = target.with_name(f".{target.name}.partial-{secrets.token_hex(4)}")
    reading = f"{source.resolve().as_uri()}?mode=ro"
    try:
        with (
            contextlib.closing(sqlite3.connect(reading, uri=True)) as db,
            contextlib.closing(sqlite3.connect(partial)) as copy,
        ):
            db.backup(copy)
            votes = int(copy.execute("SELECT COUNT(*) FROM votes").fetchone()[0])
            questions = int(copy.execute("SELECT COUNT(*) FROM unanswered").fetchone()[0])
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return votes, questions
