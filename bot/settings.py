"""Settings for every surface, read from the environment (prefix ``QABOT_``) and ``.env``.

One class holds every tunable number with a comment on what it trades off.
A bad value is reported by :func:`load_settings` as a :class:`SettingsError` that names
the variable, so surfaces can exit with code 2 and no traceback.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_FILE = Path(".env")
# A settings file is a few lines; a larger one is a mistake.
_MAX_ENV_BYTES = 1_000_000


class SettingsError(Exception):
    """A setting has a value that cannot be used; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="QABOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # An empty value in .env (as in .env.example) means "not set".
        env_ignore_empty=True,
    )

    # Where the articles, their metadata and the alias table live.
    knowledge_dir: Path = Path("knowledge")
    # Where the built fact index is kept between runs (keyed by the knowledge files'
    # contents); a restart then skips parsing. QABOT_USE_CACHE=false always rebuilds.
    cache_dir: Path = Field(
        default_factory=lambda: Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qabot"
    )
    use_cache: bool = True

    # Confidence needed to answer. Higher abstains more often (fewer wrong answers,
    # more "the article does not say"); see the trade-off table in the README. Unset,
    # the threshold chosen when the confidence model was fit (bot/engine/confidence.json).
    answer_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    # The reader: a small transformer that reads the question beside each candidate fact
    # (bot/engine/models/reader). Off ("off", "false"), the lexical evidence alone decides:
    # no model is loaded (about 60 MB less memory, tens of ms less per question) and
    # answers are worse on paraphrases; the README's quality table shows both.
    reader: bool = True
    # Most facts quoted in one answer, when several facts answer together.
    max_facts: int = Field(default=3, ge=1, le=10)
    # Most "did you mean" suggestions offered when the bot abstains.
    max_suggestions: int = Field(default=3, ge=0, le=10)
    # Conversation memory for follow-up questions: turns remembered, seconds a quiet
    # conversation is kept, and how many conversations are held (least recently used
    # go first). More remembers further back and holds more memory.
    conversation_turns: int = Field(default=5, ge=1, le=50)
    conversation_ttl: float = Field(default=900.0, gt=0)
    max_conversations: int = Field(default=10_000, ge=1)
    # Seconds loading the knowledge folder may take (at start, /reload, SIGHUP) before it
    # is given up; a reload that runs out keeps the old facts. An archive of 100,000
    # facts takes about half a minute on two cores without the cache.
    # At most a day: the timer that enforces it takes no larger value (nor infinity).
    load_timeout: float = Field(default=600.0, gt=0, le=86_400)
    # Questions longer than this are cut before matching; bounds the work per question.
    max_question_chars: int = Field(default=500, ge=10, le=10_000)

    # Discord (used by the bot surface only).
    discord_token: SecretStr | None = None
    # A guild (server) whose slash commands are synced at every start, for development.
    dev_guild_id: int | None = None
    # Who may use owner-only commands besides the application's owner.
    owner_id: int | None = None
    # Sharding: the total shard count, and which shards this process runs ("0,1").
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: Annotated[list[int] | None, NoDecode] = None
    # Another REST base and gateway (an HTTP proxy for rate limits, or a test server).
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    # Seconds to wait for Discord's READY after connecting before reconnecting.
    ready_timeout: float = Field(default=60.0, gt=0)
    # Per-user cooldown: this many questions per this many seconds. Lower is kinder to a
    # busy server, higher to a curious user.
    cooldown_rate: int = Field(default=5, ge=1)
    cooldown_seconds: float = Field(default=30.0, gt=0)
    # Who may add and remove articles from Discord (/article): the bot's owner only, or
    # also members who may manage the server. And the largest file accepted, in bytes.
    article_editors: Literal["owner", "managers"] = "owner"
    article_upload_bytes: int = Field(default=1_000_000, ge=1_000, le=5_000_000)
    # Logging of the Discord bot: the level (DEBUG shows user text; INFO does not), and a
    # file to log to besides standard error (rotated at 5 MB, five kept).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_file: Path | None = None
    # Starting with Discord out of reach: how many times to try, waiting 2, 4, 8 ... s
    # (at most a minute) between tries. More rides out longer outages before giving up.
    connect_attempts: int = Field(default=5, ge=1, le=100)
    # A file the running bot rewrites every 30 s with its state, for `qabot health`
    # (a container's health check); unset, none is written.
    health_file: Path | None = None
    # PostgreSQL for feedback, unanswered questions and the command-sync hash, shared by
    # several bot processes (postgresql://user:password@host/db); unset, the SQLite file.
    database_url: SecretStr | None = None
    # SQLite file for feedback, unanswered questions and the command-sync hash.
    database_path: Path = Path("qabot.sqlite3")
    # Store questions the bot could not answer (hashed user ids only); off keeps none.
    log_questions: bool = True
    # Votes and stored questions older than this many days are deleted; 0 keeps them.
    retention_days: float = Field(default=90, ge=0)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("discord_token")
    @classmethod
    def _one_token(cls, value: SecretStr | None) -> SecretStr | None:
        # A token pasted with a line break or a space would be sent as a broken header.
        if value is not None and any(char.isspace() for char in value.get_secret_value().strip()):
            raise ValueError("contains a line break or space; paste the token alone, on one line")
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # Commas, spaces or both separate ids: "0,1", "2 3", "2, 3".
        if isinstance(value, str):
            return [int(part) for part in value.replace(",", " ").split()] or None
        return value

    @field_validator("knowledge_dir", "cache_dir", "log_file", "health_file", "database_path", mode="before")
    @classmethod
    def _home(cls, value: object) -> object:
        # "~/qcache" in .env means the home folder, as in a shell.
        if isinstance(value, str | Path):
            return Path(value).expanduser()
        return value

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        if self.shard_ids and not self.shard_count:
            raise ValueError("QABOT_SHARD_IDS needs QABOT_SHARD_COUNT")
        if self.shard_ids and self.shard_count and any(not 0 <= i < self.shard_count for i in self.shard_ids):
            raise ValueError("every QABOT_SHARD_IDS entry must be below QABOT_SHARD_COUNT")
        return self


def _env_file(path: Path = ENV_FILE) -> Path | None:
    """``path`` when it is a readable UTF-8 text file; None when there is none. Anything
    else (a FIFO that would hang the read, another encoding) is a SettingsError."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SettingsError(f"{path.resolve()}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise SettingsError(f"{path.resolve()}: not a regular file; .env must be a text file")
    if info.st_size > _MAX_ENV_BYTES:
        raise SettingsError(f"{path.resolve()}: {info.st_size:,} bytes is too large for a settings file")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise SettingsError(f"{path.resolve()}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{path.resolve()}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    # python-dotenv skips a line it cannot read (a quote never closed) without a word.
    from dotenv.parser import parse_stream

    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            line = binding.original.string.split("=", 1)[0].strip()[:60]
            raise SettingsError(
                f"{path.resolve()}, line {binding.original.line}: cannot be read ({line}...: a quote not closed?)"
            )
    return path


def load_settings(**overrides: object) -> Settings:
    """Read the settings; raise :class:`SettingsError` naming the bad variable or file."""
    env_file = _env_file()
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[arg-type, call-arg]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            name = f"QABOT_{field.upper()}: " if field else ""
            problems.append(f"{name}{error['msg']}")
        raise SettingsError("; ".join(problems)) from None
