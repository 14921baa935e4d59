"""Starting the bot when Discord says no: one clear line, the right exit code, no traceback."""

from __future__ import annotations

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


def test_an_unreachable_discord_is_one_line_and_exit_1(fake: FakeDiscord, tmp_path: Path) -> None:
    env = bot_env(fake, ROOT / "knowledge", tmp_path / "db.sqlite3")
    env["QABOT_DISCORD_API_BASE"] = "http://127.0.0.1:9/api/v10"  # nothing listens on the discard port
    assert_one_clean_line(run_bot(env, tmp_path), 1, "cannot reach Discord")


def test_a_token_with_a_line_break_is_a_setting_error(fake: FakeDiscord, tmp_path: Path) -> None:
    env = bot_env(fake, ROOT / "knowledge", tmp_path / "db.sqlite3")
    env["QABOT_DISCORD_TOKEN"] = TOKEN[:20] + "\r\n" + TOKEN[20:]
    result = run_bot(env, tmp_path)
    assert_one_clean_line(result, 2, "QABOT_DISCORD_TOKEN")
    assert TOKEN[20:] not in result.stderr and TOKEN[:20] not in result.stderr
