"""Discord faults against the local fake: the bot survives each one and goes on answering."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_discord import FakeDiscord, user
from tests.support.process import TOKEN, BotProcess, ask, wait_for


@pytest.fixture(scope="module")
def bot(fake: FakeDiscord, workdir: Path) -> Iterator[BotProcess]:
    process = BotProcess(fake, workdir, {"QABOT_READY_TIMEOUT": "3"})
    try:
        wait_for(lambda: (process.alive(), "ready as qabot" in process.output())[1], 30, "the bot to be ready")
        yield process
    finally:
        code = process.stop()
        assert TOKEN not in process.output()
        assert code == 0, process.output()


def fail_first(
    fake: FakeDiscord,
    path: str,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
    times: int = 1,
) -> list[int]:
    """Make the next ``times`` requests to ``path`` fail; returns a list that counts them."""
    failed: list[int] = []
    lock = threading.Lock()

    def fault(method: str, request_path: str) -> tuple[int, Any, dict[str, str]] | None:
        with lock:
            if request_path == path and len(failed) < times:
                failed.append(status)
                return status, body, headers or {}
        return None

    fake.fault = fault
    return failed


def dm(fake: FakeDiscord, text: str, who: dict[str, Any], channel: str) -> None:
    fake.dispatch("MESSAGE_CREATE", fake.incoming_message(text, who, guild=False, channel_id=channel))


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (500, {"message": "500: Internal Server Error", "code": 0}, {}),
        (
            429,
            {"message": "You are being rate limited.", "retry_after": 0.4, "global": False},
            {"Retry-After": "0.4", "X-RateLimit-Scope": "user", "Via": "1.1 google"},
        ),
    ],
)
def test_a_failed_reply_is_retried_and_sent_once(
    bot: BotProcess, fake: FakeDiscord, status: int, body: dict[str, Any], headers: dict[str, str]
) -> None:
    channel = fake.next_id()
    path = f"/channels/{channel}/messages"
    failed = fail_first(fake, path, status, body, headers)
    try:
        dm(fake, "Who is Yoon Suk Yeol?", user(100 + status), channel)
        wait_for(lambda: len(fake.sent("POST", path)) >= 2, 20, "the retried reply")
        time.sleep(1.0)
    finally:
        fake.fault = None
    attempts = fake.sent("POST", path)
    assert failed == [status]
    assert len(attempts) == 2  # one failure, one success: the reply reached the channel once
    assert "Yoon" in attempts[-1].body["embeds"][0]["description"]
    bot.alive()


def test_an_expired_interaction_is_logged_and_the_bot_goes_on(bot: BotProcess, fake: FakeDiscord) -> None:
    payload = fake.slash("ask", [{"name": "question", "type": 3, "value": "Who is Cho Hyun?"}], user(120))
    path = f"/interactions/{payload['id']}/{payload['token']}/callback"
    fail_first(fake, path, 404, {"message": "Unknown interaction", "code": 10062}, times=5)
    try:
        fake.dispatch("INTERACTION_CREATE", payload)
        wait_for(lambda: fake.sent("POST", path), what="the attempt to answer")
        time.sleep(0.5)
    finally:
        fake.fault = None
    assert len(fake.sent("POST", path)) <= 2  # the answer, then at most the apology: no loop
    reply = ask(fake, "Who is Cho Hyun?", user(121))
    assert "Cho Hyun" in reply.body["data"]["embeds"][0]["description"]
    bot.alive()


@pytest.mark.parametrize("code", [4000, 4009])
def test_gateway_closes_resumable_and_not(bot: BotProcess, fake: FakeDiscord, code: int) -> None:
    identifies, resumes = fake.identifies, fake.resumes
    fake.drop_connection(code)
    if code == 4009:  # session timed out: a new session must be identified
        wait_for(lambda: fake.identifies > identifies, 30, "a new IDENTIFY")
    else:
        wait_for(lambda: fake.identifies + fake.resumes > identifies + resumes, 30, "a reconnect")
    time.sleep(0.5)
    reply = ask(fake, "When did Kishida travel to Seoul?", user(130 + code % 10))
    assert "Kishida" in reply.body["data"]["embeds"][0]["description"]
    bot.alive()


def test_a_missing_ready_is_logged_and_retried(bot: BotProcess, fake: FakeDiscord) -> None:
    fake.withhold_ready = 1
    identifies = fake.identifies
    fake.drop_connection(4009)
    wait_for(lambda: "no READY from Discord within 3 s" in bot.output(), 30, "the READY timeout")
    wait_for(lambda: fake.identifies >= identifies + 2, 30, "a second IDENTIFY")
    time.sleep(0.5)
    reply = ask(fake, "Who is the Japanese foreign minister?", user(140))
    assert "Iwaya" in reply.body["data"]["embeds"][0]["description"]


def test_a_storm_of_direct_messages_from_one_user(bot: BotProcess, fake: FakeDiscord) -> None:
    channel = fake.next_id()
    stormer = user(150)
    for _ in range(500):
        dm(fake, "Who is Cho Hyun?", stormer, channel)
    quiet_channel = fake.next_id()
    dm(fake, "Who is Yoon Suk Yeol?", user(151), quiet_channel)
    wait_for(lambda: fake.sent("POST", f"/channels/{quiet_channel}/messages"), 20, "the other user's answer")
    time.sleep(1.0)
    replies = fake.sent("POST", f"/channels/{channel}/messages")
    answers = [r for r in replies if r.body.get("embeds")]
    notices = [r for r in replies if "asking quickly" in (r.body.get("content") or "")]
    assert len(answers) == 5
    assert len(notices) == 1
    assert len(replies) == 6
    bot.alive()
