"""Settings for every surface, read from the environment (prefix ``QABOT_``) and ``.env``.

One class holds every tunable number with a comment on what it trades off.
A bad value is reported by :func:`load_settings` as a :class:`SettingsError` that names
the variable, so surfaces can exit with code 2 and no traceback.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.matcher import DEFAULT_THRESHOLD


class SettingsError(Exception):
    """A setting has a value that cannot be used; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="QABOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # Where the articles, their metadata and the alias table live.
    knowledge_dir: Path = Path("knowledge")

    # Confidence needed to answer. Higher abstains more often (fewer wrong answers,
    # more "the article does not say"); see the trade-off table in the README.
    answer_threshold: float = Field(default=DEFAULT_THRESHOLD, ge=0.0, le=1.0)
    # Most facts quoted in one answer, when several facts answer together.
    max_facts: int = Field(default=3, ge=1, le=10)
    # Most "did you mean" suggestions offered when the bot abstains.
    max_suggestions: int = Field(default=3, ge=0, le=10)
    # Questions longer than this are cut before matching; bounds the work per question.
    max_question_chars: int = Field(default=500, ge=10, le=10_000)

    # Discord (used by the bot surface only).
    discord_token: SecretStr | None = None
    dev_guild_id: int | None = None


def load_settings(**overrides: object) -> Settings:
    """Read the settings; raise :class:`SettingsError` naming the bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            problems.append(f"QABOT_{field.upper()}: {error['msg']}")
        raise SettingsError("; ".join(problems)) from None
