"""The Discord path: time from dispatching INTERACTION_CREATE to the bot's reply request.

The real bot process runs against the local fake Discord from the tests; interactions
are kept ``in_flight`` at a time, and the bot's resident memory is read at the start and
the end of the run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.evaluation.metrics import percentile
from tests.support.fake_discord import FakeDiscord, Request, user
from tests.support.process import BotProcess, wait_for

QUESTIONS = [
    "Will Lee meet Donald Trump?",
    "Who is the Japanese foreign minister?",
    "When did Kishida travel to Seoul?",
    "What is the capital of France?",
]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


async def _drive(fake: FakeDiscord, interactions: int, in_flight: int) -> tuple[list[float], int]:
    """Runs inside the fake's event loop: no thread hops between dispatch and reply."""
    loop = asyncio.get_running_loop()
    waiting: dict[str, asyncio.Future[Request]] = {}
    latencies: list[float] = []
    errors = 0

    def arrived(request: Request) -> None:
        future = waiting.pop(request.path, None)
        if future is not None and not future.done():
            future.set_result(request)

    fake.on_request = arrived
    slots = asyncio.Semaphore(in_flight)

    async def one(number: int) -> None:
        nonlocal errors
        async with slots:
            payload = fake.slash(
                "ask", [{"name": "question", "type": 3, "value": QUESTIONS[number % len(QUESTIONS)]}], user(number)
            )
            future: asyncio.Future[Request] = loop.create_future()
            waiting[f"/interactions/{payload['id']}/{payload['token']}/callback"] = future
            started = time.monotonic()
            await fake.send_event("INTERACTION_CREATE", payload)
            try:
                request = await asyncio.wait_for(future, 10)
            except TimeoutError:
                errors += 1
                return
            latencies.append((request.at - started) * 1000.0)
            if (request.body or {}).get("type") != 4:
                errors += 1

    await asyncio.gather(*(one(number) for number in range(interactions)))
    fake.on_request = None
    return latencies, errors


def measure(interactions: int, in_flight: int) -> dict[str, Any]:
    """The real bot's figures, with the floor's (a bare discord.py bot answering a
    constant string) beside them, and the same bare bot answering a constant reply of an
    answer's shape (embed and buttons): what discord.py costs to send that reply."""
    found = _measure(interactions, in_flight, ("-m", "bot", "run"))
    floor = _measure(interactions, in_flight, ("-m", "benchmarks.floor_bot"))
    shaped = _measure(interactions, in_flight, ("-m", "benchmarks.floor_bot", "--shaped"))
    found["floor"] = floor
    found["shaped_floor"] = shaped
    found["cpu_ratio_to_floor"] = _ratio(found["bot_cpu_ms"], floor["bot_cpu_ms"])
    found["shaped_ratio_to_floor"] = _ratio(shaped["bot_cpu_ms"], floor["bot_cpu_ms"])
    return found


def _ratio(ours: float, floor: float) -> float:
    return ours / floor if floor else float("inf")


def _measure(interactions: int, in_flight: int, command: tuple[str, ...]) -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    workdir = Path(tempfile.mkdtemp(prefix="qabot-discord-bench-"))
    shutil.copytree(root / "knowledge", workdir / "knowledge")
    fake = FakeDiscord()
    fake.start()
    env = {"QABOT_COOLDOWN_RATE": "1000000", "QABOT_LOG_QUESTIONS": "false", "PYTHONPATH": str(root)}
    bot = BotProcess(fake, workdir, env, command)
    try:
        wait_for(lambda: (bot.alive(), "ready as qabot" in bot.output())[1], 60, "the bot to be ready")
        # Warm up: the first answers load word tables.
        fake.run(_drive(fake, 20, 1))
        start_rss, start_cpu, started = rss_mb(bot.process.pid), cpu_seconds(bot.process.pid), time.monotonic()
        latencies, errors = fake.run(_drive(fake, interactions, in_flight))
        end_rss, end_cpu, ended = rss_mb(bot.process.pid), cpu_seconds(bot.process.pid), time.monotonic()
        return {
            "interactions": interactions,
            "in_flight": in_flight,
            "p50_ms": percentile(latencies, 0.5),
            "p99_ms": percentile(latencies, 0.99),
            "errors": errors,
            "rss_start_mb": start_rss,
            "rss_end_mb": end_rss,
            # The bot's CPU per interaction, and the interactions it got through a second:
            # with ``in_flight`` waiting, each waits for about in_flight / rate seconds.
            "bot_cpu_ms": (end_cpu - start_cpu) * 1000.0 / interactions,
            "rate_per_s": interactions / (ended - started),
        }
    finally:
        bot.stop()
        fake.stop()
        shutil.rmtree(workdir, ignore_errors=True)
