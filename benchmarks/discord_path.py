"""The Discord path: time from dispatching INTERACTION_CREATE to the bot's reply request.

The real bot process runs against the local fake Discord from the tests; interactions
are kept ``in_flight`` at a time, and the bot's resident memory is read at the start and
the end of the run.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.fake_discord import FakeDiscord, Request, user
from tests.test_discord_e2e import BotProcess, wait_for

QUESTIONS = [
    "Will Lee meet Donald Trump?",
    "Who is the Japanese foreign minister?",
    "When did Kishida travel to Seoul?",
    "What is the capital of France?",
]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


async def measure(interactions: int, in_flight: int) -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    workdir = Path(tempfile.mkdtemp(prefix="qabot-discord-bench-"))
    shutil.copytree(root / "knowledge", workdir / "knowledge")
    fake = FakeDiscord()
    fake.start()
    bot = BotProcess(fake, workdir, {"QABOT_COOLDOWN_RATE": "1000000", "QABOT_LOG_QUESTIONS": "false"})
    try:
        wait_for(lambda: (bot.alive(), "ready as qabot" in bot.output())[1], 60, "the bot to be ready")
        sent_at: dict[str, float] = {}
        latencies: list[float] = []
        errors = 0
        done = threading.Condition()

        def arrived(request: Request) -> None:
            nonlocal errors
            with done:
                started = sent_at.pop(request.path, None)
                if started is None:
                    return
                latencies.append((request.at - started) * 1000.0)
                if (request.body or {}).get("type") != 4:
                    errors += 1
                done.notify()

        fake.on_request = arrived
        start_rss = rss_mb(bot.process.pid)
        for number in range(interactions):
            with done:
                while len(sent_at) >= in_flight:
                    if not done.wait(10):
                        raise AssertionError("the bot stopped answering")
            payload = fake.slash("ask", [{"name": "question", "type": 3, "value": QUESTIONS[number % len(QUESTIONS)]}], user(number))
            with done:
                sent_at[f"/interactions/{payload['id']}/{payload['token']}/callback"] = time.monotonic()
            fake.dispatch("INTERACTION_CREATE", payload)
        with done:
            deadline = time.monotonic() + 30
            while sent_at and time.monotonic() < deadline:
                done.wait(1)
        errors += len(sent_at)
        end_rss = rss_mb(bot.process.pid)
        ordered = sorted(latencies)
        return {
            "interactions": interactions,
            "in_flight": in_flight,
            "p50_ms": ordered[len(ordered) // 2],
            "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
            "errors": errors,
            "rss_start_mb": start_rss,
            "rss_end_mb": end_rss,
        }
    finally:
        fake.on_request = None
        bot.stop()
        fake.stop()
        shutil.rmtree(workdir, ignore_errors=True)
