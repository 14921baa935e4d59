"""The bot as a separate process against the fake Discord, and helpers to talk to it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.fake_discord import FakeDiscord, Request

TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.FAKE.never-print-this-token-4f9c"


def wait_for(condition: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def bot_env(fake: FakeDiscord, knowledge: Path, database: Path) -> dict[str, str]:
    """This process's environment, less any QABOT_ setting, pointed at the fake Discord."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    env.update(fake.env)
    env.update(
        {"QABOT_DISCORD_TOKEN": TOKEN, "QABOT_KNOWLEDGE_DIR": str(knowledge), "QABOT_DATABASE_PATH": str(database)}
    )
    return env


class BotProcess:
    def __init__(
        self,
        fake: FakeDiscord,
        workdir: Path,
        extra_env: dict[str, str] | None = None,
        command: tuple[str, ...] = ("-m", "bot", "run"),
    ) -> None:
        self.log = workdir / f"bot-{time.monotonic_ns()}.log"
        env = bot_env(fake, workdir / "knowledge", workdir / "qabot.sqlite3")
        env.update({"QABOT_COOLDOWN_RATE": "5", "QABOT_COOLDOWN_SECONDS": "30", "PYTHONUNBUFFERED": "1"})
        env.update(extra_env or {})
        self._out = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, *command], cwd=workdir, env=env, stdout=self._out, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        """True while the bot runs; raises with its output once it has exited."""
        if self.process.poll() is not None:
            raise AssertionError(f"bot exited with {self.process.returncode}:\n{self.output()}")
        return True

    def ready(self) -> bool:
        """True once the bot has connected; raises with its output if it has exited."""
        return self.alive() and "ready as qabot" in self.output()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._out.close()
        return self.process.returncode


def callback_for(fake: FakeDiscord, payload: dict[str, Any]) -> Request:
    path = f"/interactions/{payload['id']}/{payload['token']}/callback"
    found: Request = wait_for(
        lambda: next((r for r in fake.sent("POST") if r.path == path), None), what=f"a reply to {path}"
    )
    return found


def ask(fake: FakeDiscord, question: str, who: dict[str, Any]) -> Request:
    payload = fake.slash("ask", [{"name": "question", "type": 3, "value": question}], who)
    fake.dispatch("INTERACTION_CREATE", payload)
    return callback_for(fake, payload)
