"""Several bot processes, one deployment: two shard processes share one PostgreSQL store."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import KNOWLEDGE
from tests.support.fake_discord import FakeDiscord, user
from tests.support.process import TOKEN, BotProcess, callback_for, wait_for

SERVER = os.environ.get("QABOT_TEST_DATABASE_URL", "")


@pytest.fixture()
def database() -> Iterator[str]:
    if not SERVER:
        pytest.skip("QABOT_TEST_DATABASE_URL is not set: no PostgreSQL server to test against")
    import psycopg

    name = f"qabot_shards_{secrets.token_hex(6)}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}".encode())
    try:
        yield f"{SERVER.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())


def test_two_shard_processes_share_one_postgres_store(fake: FakeDiscord, tmp_path: Path, database: str) -> None:
    processes = []
    try:
        for shard in (0, 1):
            folder = tmp_path / f"shard{shard}"
            shutil.copytree(KNOWLEDGE, folder / "knowledge")
            env = {"QABOT_SHARD_COUNT": "2", "QABOT_SHARD_IDS": str(shard), "QABOT_DATABASE_URL": database}
            processes.append(BotProcess(fake, folder, env))
            wait_for(processes[-1].ready, 60, f"shard {shard} to be ready")
        assert sorted(fake.shard_of.values())[-2:] == [0, 1]  # each process runs its own shard
        for shard, question in ((0, "What is Ishiba's favourite food?"), (1, "Who won the cup final?")):
            payload = fake.slash("ask", [{"name": "question", "type": 3, "value": question}], user(60 + shard))
            fake.dispatch("INTERACTION_CREATE", payload, shard=shard)
            assert callback_for(fake, payload).body["data"]["content"].startswith("The article does not say.")

        def listed() -> str:
            payload = fake.slash("unanswered", [], user(1))
            fake.dispatch("INTERACTION_CREATE", payload, shard=0)
            return str(callback_for(fake, payload).body["data"]["content"])

        text = wait_for(lambda: (found := listed()) and "cup final" in found and found, 20, "both shards' questions")
        assert "favourite food" in text and "cup final" in text  # written by two processes, seen by one
    finally:
        codes = [process.stop() for process in processes]
    assert codes == [0] * len(processes)
    assert all(TOKEN not in process.output() for process in processes)
