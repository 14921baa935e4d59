"""Settings read as a user means them: bounds, separators, home folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings
from tests.test_cli import run


@pytest.mark.parametrize("value", ["inf", "1e20", "nan", "-1", "0"])
def test_an_out_of_range_load_timeout_is_one_line_and_exit_2(value: str) -> None:
    result = run("check", env={"QABOT_LOAD_TIMEOUT": value})
    assert result.returncode == 2, result.stderr
    assert "QABOT_LOAD_TIMEOUT" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("value", "expected"), [("2 3", [2, 3]), ("2,3", [2, 3]), (" 2 , 3 ", [2, 3]), ("1", [1])])
def test_shard_ids_are_separated_by_spaces_or_commas(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: list[int]
) -> None:
    monkeypatch.setenv("QABOT_SHARD_COUNT", "4")
    monkeypatch.setenv("QABOT_SHARD_IDS", value)
    assert Settings(_env_file=None).shard_ids == expected  # type: ignore[call-arg]


def test_a_home_folder_in_a_path_setting_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "QABOT_CACHE_DIR=~/qcache\nQABOT_KNOWLEDGE_DIR=~/kb\nQABOT_LOG_FILE=~/logs/bot.log\n"
        "QABOT_HEALTH_FILE=~/health.json\nQABOT_DATABASE_PATH=~/votes.sqlite3\n",
        encoding="utf-8",
    )
    settings = load_settings()
    assert settings.cache_dir == tmp_path / "qcache"
    assert settings.knowledge_dir == tmp_path / "kb"
    assert settings.log_file == tmp_path / "logs" / "bot.log"
    assert settings.health_file == tmp_path / "health.json"
    assert settings.database_path == tmp_path / "votes.sqlite3"


def test_a_bad_setting_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QABOT_LOAD_TIMEOUT", "inf")
    with pytest.raises(SettingsError, match="QABOT_LOAD_TIMEOUT"):
        load_settings()


def test_an_unclosed_quote_in_dot_env_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text('QABOT_MAX_FACTS=2\nQABOT_DISCORD_TOKEN="abc\nQABOT_MAX_SUGGESTIONS=1\n')
    result = run("check", cwd=tmp_path)
    assert result.returncode == 2
    assert "line 2" in result.stderr and "quote" in result.stderr and "abc" not in result.stderr
    assert "Traceback" not in result.stderr
