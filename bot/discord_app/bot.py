"""The Discord bot: a ``commands.AutoShardedBot`` that loads the QA cog and runs until told to stop.

Intents are the fewest that work: ``guilds`` (to know the servers and channels),
``dm_messages`` (questions sent in a DM) and ``guild_messages`` (mentions in a server).
Message content is delivered without the privileged intent for DMs and for messages
that mention the bot, which are the only messages it reads.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import hashlib
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import discord
import yarl
from discord.ext import commands

from bot import wiring
from bot.discord_app.custom_ids import fact_key
from bot.discord_app.health import INTERVAL as HEALTH_INTERVAL
from bot.discord_app.health import write_health
from bot.discord_app.store import OffLoopStore, open_store
from bot.discord_app.translations import Translator
from bot.engine.answer import Answer
from bot.engine.conversation import Conversations
from bot.engine.index import FactIndex
from bot.engine.knowledge import Knowledge, KnowledgeError
from bot.engine.matcher import Matcher
from bot.render import counted
from bot.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

EXTENSIONS = ("bot.discord_app.cogs.qa",)

# Seconds before the first new try to reach Discord, and the longest wait between tries.
_FIRST_RETRY = 2.0
_LAST_RETRY = 60.0

# Gateway close codes that no retry can fix, and what to do about each.
_FATAL_CLOSES = {
    4004: ("Discord refused QABOT_DISCORD_TOKEN (authentication failed); check or reset the token", True),
    4010: ("Discord refused the shard; check QABOT_SHARD_COUNT and QABOT_SHARD_IDS", True),
    4011: ("Discord requires sharding for this bot; set QABOT_SHARD_COUNT", True),
    4012: ("Discord refused the gateway version; upgrade discord.py", False),
    4013: ("Discord refused the requested intents as invalid", True),
    4014: (
        "Discord refused the requested intents; enable them for the bot in the developer portal",
        True,
    ),
}


async def in_daemon_thread(function: Callable[..., T], *args: object, timeout: float) -> T:
    """``function(*args)`` on a daemon thread, awaited for at most ``timeout`` seconds.

    Unlike ``asyncio.to_thread``, a call that never returns (a hung file system) holds
    neither the loop's executor nor the process's exit.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def work() -> None:
        try:
            result = function(*args)
        except BaseException as error:  # handed to the awaiting task
            caught = error
            with contextlib.suppress(RuntimeError):  # the loop may have closed meanwhile
                loop.call_soon_threadsafe(settle, lambda: future.set_exception(caught))
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, lambda: future.set_result(result))

    threading.Thread(target=work, name="knowledge-load", daemon=True).start()
    return await asyncio.wait_for(future, timeout)


def _fact_keys(knowledge: Knowledge) -> dict[str, str]:
    return {fact_key(fact.id): fact.id for fact in knowledge.facts}


@dataclass(frozen=True, slots=True)
class Status:
    """What /status shows."""

    uptime: float  # seconds since the start
    shards: dict[int, float]  # each shard's gateway latency in seconds
    articles: int
    facts: int
    answered: int  # questions answered since the start
    abstained: int
    database_bytes: int | None  # None: the feedback database is unavailable


class RunError(Exception):
    """The bot cannot run; the message says what to do. ``config`` when the settings (or
    the bot's set-up on Discord) are at fault rather than the network; ``retry`` when
    trying again later may work."""

    def __init__(self, message: str, *, config: bool, retry: bool = False) -> None:
        super().__init__(message)
        self.config = config
        self.retry = retry


def run_error(error: BaseException, settings: Settings) -> RunError | None:
    """What a failure to start or keep running means for the user, or None when unknown."""
    if isinstance(error, discord.LoginFailure):
        return RunError("QABOT_DISCORD_TOKEN was refused by Discord; check or reset the token", config=True)
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return RunError(_FATAL_CLOSES[4014][0], config=True)
    if isinstance(error, discord.ConnectionClosed):
        message, config = _FATAL_CLOSES.get(
            error.code, (f"Discord closed the gateway connection with code {error.code}", False)
        )
        return RunError(message, config=config)
    if isinstance(error, discord.HTTPException):
        return RunError(f"Discord answered HTTP {error.status} while starting", config=False, retry=error.status >= 500)
    if isinstance(error, aiohttp.ClientError | OSError | asyncio.TimeoutError):
        where = settings.discord_api_base or "discord.com"
        reason = str(error) or type(error).__name__
        return RunError(
            f"cannot reach Discord at {where} ({reason}); check the network, or QABOT_DISCORD_API_BASE",
            config=False,
            retry=True,
        )
    return None


_SYNC_HASH_KEY = "command_sync_hash"


def intents() -> discord.Intents:
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.dm_messages = True
    chosen.guild_messages = True
    return chosen


def point_at(settings: Settings) -> None:
    """Send REST and gateway traffic to the configured endpoints (a proxy or a test server)."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


class QABot(commands.AutoShardedBot):
    def __init__(self, settings: Settings, index: FactIndex, *, force_sync: bool = False) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            shard_count=settings.shard_count,
            shard_ids=settings.shard_ids,  # type: ignore[arg-type]  # None means all shards
            owner_id=settings.owner_id,
            help_command=None,
            # Answers never need old messages: no message cache, so memory stays flat.
            max_messages=None,
        )
        self.settings = settings
        self.knowledge: Knowledge = index.knowledge
        self._fact_keys = _fact_keys(index.knowledge)
        self.matcher: Matcher = wiring.matcher_for(settings, index)
        self.conversations: Conversations = wiring.conversations_for(settings, self.matcher)
        # Answering (the reader's model above all) runs on this one thread, off the event
        # loop, so the gateway's heartbeat never waits on it; one thread keeps the
        # conversations' turns in order.
        self.engine = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="qabot-engine")
        # Questions answered since the start, by the kind of answer.
        self.answered: collections.Counter[str] = collections.Counter()
        url = settings.database_url.get_secret_value() if settings.database_url else None
        self.store = OffLoopStore(
            open_store(
                url,
                settings.database_path,
                log_questions=settings.log_questions,
                retention_days=settings.retention_days,
            )
        )
        self.force_sync = force_sync
        self._reloading = False
        self.tasks: set[asyncio.Future[Any]] = set()
        self.started = time.time()
        self._health: asyncio.Task[None] | None = None
        self._health_changed = asyncio.Event()
        self._watchdogs: dict[int | None, asyncio.Task[None]] = {}

    async def setup_hook(self) -> None:
        await self.tree.set_translator(Translator())
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands()
        self._watch(None)
        if self.settings.health_file is not None:
            self._health = asyncio.create_task(self._report_health(self.settings.health_file))

    async def _report_health(self, path: Path) -> None:
        """Rewrite the health file every so often, for `qabot health`."""
        while not self.is_closed():
            try:
                await asyncio.to_thread(
                    write_health, path, ready=self.is_ready(), latency=self.latency, started=self.started
                )
            except OSError as exc:
                log.warning("could not write the health file %s: %s", path, exc)
            # Every so often, and at once when the connection comes or goes.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._health_changed.wait(), HEALTH_INTERVAL)
            self._health_changed.clear()

    # -- READY watchdog: Discord may accept a connection and never send READY ------------

    def _watch(self, shard_id: int | None) -> None:
        """Expect READY (or RESUMED) on ``shard_id`` (None: the first start) within the timeout."""
        previous = self._watchdogs.pop(shard_id, None)
        if previous is not None:
            previous.cancel()
        self._watchdogs[shard_id] = asyncio.create_task(self._await_ready(shard_id))

    async def _await_ready(self, shard_id: int | None) -> None:
        timeout = self.settings.ready_timeout
        await asyncio.sleep(timeout)
        if self.is_closed():
            return
        log.error("no READY from Discord within %.0f s; reconnecting", timeout)
        self._watchdogs.pop(shard_id, None)
        shards = [self.get_shard(shard_id)] if shard_id is not None else list(self.shards.values())
        for shard in shards:
            if shard is not None:
                self._watch(shard.id)
                await shard.reconnect()

    def _settled(self, shard_id: int) -> None:
        for key in (shard_id, None):
            task = self._watchdogs.pop(key, None)
            if task is not None:
                task.cancel()

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self._health_changed.set()
        if not self.is_closed():
            self._watch(shard_id)

    async def on_shard_ready(self, shard_id: int) -> None:
        self._settled(shard_id)
        self._health_changed.set()

    async def on_shard_resumed(self, shard_id: int) -> None:
        self._settled(shard_id)

    def state(self) -> Status:
        """The bot's state for /status."""
        counts = self.answered
        size = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError):
                size += os.stat(f"{self.settings.database_path}{suffix}").st_size
        return Status(
            uptime=time.time() - self.started,
            shards={shard_id: shard.latency for shard_id, shard in self.shards.items()},
            articles=len(self.knowledge.articles),
            facts=len(self.knowledge.facts),
            answered=counts.get("answer", 0),
            abstained=counts.get("abstain", 0),
            database_bytes=size if self.store.available else None,
        )

    def fact_id(self, key: str) -> str:
        """The fact id a button's key stands for (see ``fact_key``); a key the knowledge no
        longer holds, or an older button's full fact id, comes back as it is."""
        return self._fact_keys.get(key, key)

    async def command_hash(self) -> str:
        """A digest of the commands as uploaded, translations included."""
        translator = self.tree.translator
        registered = self.tree.get_commands()
        if translator is None:
            payload = [command.to_dict(self.tree) for command in registered]
        else:
            payload = [await command.get_translated_payload(self.tree, translator) for command in registered]
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    async def sync_commands(self) -> None:
        """Sync to the dev guild at every start; globally only when the commands changed."""
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to the development guild", len(synced))
            return
        digest = await self.command_hash()
        if not self.force_sync and await self.store.get_meta(_SYNC_HASH_KEY) == digest:
            log.info("commands unchanged since the last sync; not syncing")
            return
        synced = await self.tree.sync()
        await self.store.set_meta(_SYNC_HASH_KEY, digest)
        log.info("synced %d global commands", len(synced))

    async def reload_knowledge(self) -> tuple[bool, str]:
        """Load the knowledge folder again; when it is broken, or loading takes longer than
        ``QABOT_LOAD_TIMEOUT``, keep serving the old one."""
        if self._reloading:
            return False, "A reload is already running; still serving the previous knowledge."
        self._reloading = True
        timeout = self.settings.load_timeout
        try:
            index = await in_daemon_thread(wiring.load_index, self.settings, timeout=timeout)
        except KnowledgeError as exc:
            log.error("knowledge reload failed, still serving the previous knowledge: %s", exc)
            return False, f"Reload failed, still serving the previous knowledge: {exc}"
        except TimeoutError:
            log.error("knowledge reload took longer than %.0f s; still serving the previous knowledge", timeout)
            return False, f"Reload took longer than {timeout:.0f} s; still serving the previous knowledge."
        finally:
            self._reloading = False
        knowledge = index.knowledge
        self.knowledge, self.matcher = knowledge, wiring.matcher_for(self.settings, index)
        self._fact_keys = _fact_keys(knowledge)
        self.conversations = wiring.conversations_for(self.settings, self.matcher)
        message = f"Reloaded: {counted(len(knowledge.articles), 'article')}, {counted(len(knowledge.facts), 'fact')}."
        log.info(message)
        return True, message

    async def on_ready(self) -> None:
        self._health_changed.set()
        log.info("ready as %s in %d servers", self.user, len(self.guilds))

    async def answer(self, conversation: str, question: str) -> Answer:
        """The next turn of ``conversation``, answered on the engine's thread (and counted
        by its kind, for /status)."""
        conversations = self.conversations  # a reload may swap it meanwhile; this turn keeps its own
        answer = await asyncio.get_running_loop().run_in_executor(
            self.engine, conversations.answer, conversation, question
        )
        self.answered[answer.kind] += 1
        return answer

    async def close(self) -> None:
        self.engine.shutdown(wait=False, cancel_futures=True)
        for task in self._watchdogs.values():
            task.cancel()
        if self._health is not None and self.settings.health_file is not None:
            self._health.cancel()
            with contextlib.suppress(OSError):
                write_health(self.settings.health_file, ready=False, latency=float("nan"), started=self.started)
        await super().close()
        await self.store.aclose()


async def run_bot(settings: Settings, index: FactIndex, *, sync_only: bool = False) -> None:
    """Run until SIGINT or SIGTERM (or, with ``sync_only``, sync the commands and stop).

    When Discord cannot be reached, tries again ``QABOT_CONNECT_ATTEMPTS`` times in all,
    waiting twice as long each time (at most a minute), a line in the log for each.
    """
    assert settings.discord_token is not None
    point_at(settings)
    discord.VoiceClient.warn_nacl = False  # the bot has no voice features
    discord.VoiceClient.warn_dave = False
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    delay = _FIRST_RETRY
    for attempt in range(1, settings.connect_attempts + 1):
        bot = QABot(settings, index, force_sync=sync_only)
        loop.add_signal_handler(signal.SIGHUP, _reload_on_signal, bot)
        try:
            await _run(bot, settings, stopping, sync_only=sync_only)
            return
        except Exception as error:
            found = run_error(error, settings)
            if found is None:
                raise
            if not found.retry or attempt == settings.connect_attempts or stopping.is_set():
                raise found from None
            log.warning(
                "%s; trying again in %.0f s (attempt %d of %d)", found, delay, attempt + 1, settings.connect_attempts
            )
            index = bot.matcher.index  # a reload meanwhile carries over
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), delay)
            return  # told to stop while waiting
        delay = min(_LAST_RETRY, delay * 2)


def _reload_on_signal(bot: QABot) -> None:
    task = asyncio.ensure_future(bot.reload_knowledge())
    bot.tasks.add(task)  # held until done, so it is not collected while it runs
    task.add_done_callback(bot.tasks.discard)


async def _run(bot: QABot, settings: Settings, stopping: asyncio.Event, *, sync_only: bool) -> None:
    assert settings.discord_token is not None
    async with bot:
        if sync_only:
            await bot.login(settings.discord_token.get_secret_value())
            return
        running = asyncio.create_task(bot.start(settings.discord_token.get_secret_value()))
        stopped = asyncio.create_task(stopping.wait())
        await asyncio.wait((running, stopped), return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            stopped.cancel()
            running.result()  # a refused token or intents raise here
            return
        # A signal: close the connections, then end the start-up too, which would
        # otherwise keep retrying its connection when the signal came before READY.
        await bot.close()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
