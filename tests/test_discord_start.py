"""Starting the bot when Discord says no: one clear line, the right exit code, no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.fake_discord import FakeDiscord
from tests.support.process import TOKEN, bot_env


def run_bot(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"], cwd=cwd, env=env, capture_output=True, text=True, timeout=90
    )


def assert_one_clean_line(result: subprocess.CompletedProcess[str], code: int, says: str) -> None:
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert result.returncode == code, result.stderr[-2000:]
    assert len(errors) == 1 and says in errors[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("close", "says"),
    [(4004, "QABOT_DISCORD_TOKEN"), (4010, "QABOT_SHARD"), (4013, "intents"), (4014, "intents")],
)
def test_a_gateway_refusal_is_one_line_and_exit_2(fake: FakeDiscord, tmp_path: Path, close: int, says: str) -> None:
    fake.close_on_identify = close
    try:
        result = run_bot(bot_env(fake, ROOT / "knowledge", tmp_path / "db.sqlite3"), tmp_path)
    finally:
        fake.close_on_identify = None
    assert_one_clean_line(result, 2, says)


def test_an_unreachable_discord_is_retried_then_one_line_and_exit_1(fake: FakeDiscord, tmp_path: Path) -> None:
    env = bot_env(fake, ROOT / "knowledge", tmp_path / "db.sqlite3")
    env["QABOT_DISCORD_API_BASE"] = "http://127.0.0.1:9/api/v10"  # nothing listens on the discard port
    env["QABOT_CONNECT_ATTEMPTS"] = "2"
    result = run_bot(env, tmp_path)
    assert_one_clean_line(result, 1, "cannot reach Discord")
    assert "trying again in 2 s (attempt 2 of 2)" in result.stderr


def test_a_token_with_a_line_break_is_a_setting_error(fake: FakeDiscord, tmp_path: Path) -> None:
    env = bot_env(fake, ROOT / "knowledge", tmp_path / "db.sqlite3")
    env["QABOT_DISCORD_TOKEN"] = TOKEN[:20] + "\r\n" + TOKEN[20:]
    result = run_bot(env, tmp_path)
    assert_one_clean_line(result, 2, "QABOT_DISCORD_TOKEN")
    assert TOKEN[20:] not in result.stderr and TOKEN[:20] not in result.stderr


def test_a_discord_outage_at_start_is_ridden_out_and_logged_to_the_file(fake: FakeDiscord, tmp_path: Path) -> None:
    from tests.support.process import BotProcess, wait_for

    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    outage = {"left": 1}

    def unavailable(method: str, path: str) -> tuple[int, dict[str, object], dict[str, str]] | None:
        if path == "/users/@me" and outage["left"]:
            outage["left"] -= 1
            return 503, {"message": "Service Unavailable", "code": 0}, {}
        return None

    fake.fault = unavailable
    log_file = tmp_path / "logs" / "qabot.log"
    process = BotProcess(fake, tmp_path, {"QABOT_LOG_FILE": str(log_file), "QABOT_LOG_LEVEL": "info"})
    try:
        wait_for(lambda: process.alive() and "ready as qabot" in process.output(), 60, "the bot to be ready")
    finally:
        fake.fault = None
        code = process.stop()
    output = process.output()
    assert code == 0 and "trying again in 2 s" in output and "Traceback" not in output
    logged = log_file.read_text(encoding="utf-8")
    assert "trying again in 2 s" in logged and "ready as qabot" in logged
    assert TOKEN not in logged + output


def test_network_faults_are_logged_as_one_line() -> None:
    import io
    import logging

    from bot.logs import OneLineNetworkFaults

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(OneLineNetworkFaults())
    logger = logging.getLogger("qabot-test-network")
    logger.addHandler(handler)
    try:
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except OSError as error:
            logger.error("Attempting a reconnect in %.2fs", 3.5, exc_info=error)
        try:
            raise ValueError("a bug")
        except ValueError:
            logger.exception("command failed")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "Attempting a reconnect in 3.50s (ConnectionResetError: [Errno 104] Connection reset by peer)"
    assert "Traceback" in stream.getvalue()  # a bug keeps its traceback


def test_health_follows_the_running_bot(fake: FakeDiscord, tmp_path: Path) -> None:
    from tests.support.process import BotProcess, wait_for

    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    health = tmp_path / "state" / "health.json"
    env = {"QABOT_HEALTH_FILE": str(health)}

    def check() -> subprocess.CompletedProcess[str]:
        full = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")} | env
        return subprocess.run(
            [sys.executable, "-m", "bot", "health"], cwd=tmp_path, env=full, capture_output=True, text=True, timeout=60
        )

    before = check()
    assert before.returncode == 1 and before.stderr.startswith("error: ") and "Traceback" not in before.stderr
    process = BotProcess(fake, tmp_path, env)
    try:
        wait_for(lambda: process.alive() and "ready as qabot" in process.output(), 60, "the bot to be ready")
        wait_for(lambda: check().returncode == 0, 30, "a healthy state")
        assert check().stdout.startswith("ok: connected")
    finally:
        code = process.stop()
    assert code == 0
    after = check()
    assert after.returncode == 1 and "not connected" in after.stderr


def test_backup_copies_the_database_while_it_is_in_use(tmp_path: Path) -> None:
    from bot.discord_app.store import FeedbackStore

    database = tmp_path / "qabot.sqlite3"
    store = FeedbackStore(database)
    store.record_vote(1, None, "a:p1.s1", "q", True)
    store.record_unanswered(2, "Who?", "who")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")} | {"QABOT_DATABASE_PATH": str(database)}
    target = tmp_path / "copy.sqlite3"
    try:  # the store still holds the database open
        result = subprocess.run(
            [sys.executable, "-m", "bot", "backup", str(target)], cwd=ROOT, env=env, capture_output=True, text=True
        )
    finally:
        store.close()
    assert result.returncode == 0, result.stderr
    assert "1 vote and 1 unanswered question to" in result.stdout
    assert FeedbackStore(target).votes() == [("a:p1.s1", 1)]
    again = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(target)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert again.returncode == 2 and "already exists" in again.stderr
    into_folder = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert into_folder.returncode == 0 and len(list(tmp_path.glob("qabot-*.sqlite3"))) == 1
    missing = subprocess.run(
        [sys.executable, "-m", "bot", "backup", f"{tmp_path / 'newdir'}/"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "no such folder" in missing.stderr
    assert not (tmp_path / "newdir").exists()
