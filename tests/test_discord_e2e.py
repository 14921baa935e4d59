"""End to end: the real bot process (``python -m bot run``) against the local fake Discord."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.discord_app.custom_ids import fact_key
from tests.conftest import ROOT
from tests.support.fake_discord import APP_ID, BOT_USER, CHANNEL_ID, DM_CHANNEL_ID, FakeDiscord, Request, user
from tests.support.process import TOKEN, BotProcess, ask, bot_env, callback_for, wait_for

EPHEMERAL = 64


@pytest.fixture(scope="module")
def bot(fake: FakeDiscord, workdir: Path) -> Iterator[BotProcess]:
    process = BotProcess(fake, workdir)
    try:
        wait_for(lambda: (process.alive(), "ready as qabot" in process.output())[1], 30, "the bot to be ready")
        yield process
    finally:
        code = process.stop()
        output = process.output()
        assert TOKEN not in output, "the token was printed"
        assert code == 0, f"bot exited with {code}:\n{output}"


def test_startup_uploads_commands_once(bot: BotProcess, fake: FakeDiscord) -> None:
    assert fake.identifies >= 1
    uploads = fake.sent("PUT", f"/applications/{APP_ID}/commands")
    assert len(uploads) == 1
    commands = {command["name"]: command for command in uploads[0].body}
    assert set(commands) == {
        "ask",
        "facts",
        "source",
        "help",
        "unanswered",
        "reload",
        "status",
        "article",
        "Ask the article",
    }
    option = commands["ask"]["options"][0]
    assert option["name"] == "question" and option["autocomplete"] is True
    assert option["max_length"] == 300
    assert commands["ask"]["options"][1]["name"] == "private" and commands["ask"]["options"][1]["type"] == 5
    assert commands["Ask the article"]["type"] == 3  # a message's context menu
    # Japanese and Korean beside English, in every description and in the menu's name.
    for language in ("ja", "ko"):
        assert commands["ask"]["description_localizations"][language]
        assert commands["ask"]["options"][0]["description_localizations"][language]
        assert commands["Ask the article"]["name_localizations"][language]
    assert commands["ask"]["description_localizations"]["ja"] == "記事について質問する"
    assert commands["ask"]["name_localizations"] == {"ja": "質問", "ko": "질문"}
    assert commands["ask"]["options"][0]["name_localizations"]["ko"] == "질문내용"


def test_ask_quotes_the_right_sentence(bot: BotProcess, fake: FakeDiscord) -> None:
    reply = ask(fake, "Will Lee meet Donald Trump?", user(10))
    assert reply.query.get("with_response") in ("1", "true", "True")
    assert reply.body["type"] == 4
    embed = reply.body["data"]["embeds"][0]
    assert "Lee is expected to stop in Japan on his way to the United States" in embed["description"]
    assert "[1]" in embed["description"]
    assert "Kyodo" in embed["footer"]["text"]
    assert reply.body["data"]["allowed_mentions"] == {"parse": []}
    buttons = [c["custom_id"] for row in reply.body["data"]["components"] for c in row["components"]]
    key = fact_key("ishiba-lee-summit:p6.s1")
    assert buttons == [f"qabot:vote:up:{key}", f"qabot:vote:down:{key}"]


def test_autocomplete_offers_at_most_25_short_choices(bot: BotProcess, fake: FakeDiscord) -> None:
    payload = fake.interaction(
        4,
        {
            "id": fake.next_id(),
            "name": "ask",
            "type": 1,
            "options": [{"name": "question", "type": 3, "value": "cho", "focused": True}],
        },
        user(11),
    )
    fake.dispatch("INTERACTION_CREATE", payload)
    reply = callback_for(fake, payload)
    assert reply.body["type"] == 8
    choices = reply.body["data"]["choices"]
    assert 1 <= len(choices) <= 25
    assert all(len(choice["name"]) <= 100 and len(choice["value"]) <= 100 for choice in choices)
    assert "Cho Hyun" in choices[0]["name"]


def test_direct_message_is_a_question(bot: BotProcess, fake: FakeDiscord) -> None:
    fake.dispatch("MESSAGE_CREATE", fake.incoming_message("who is cho hyun?", user(12), guild=False))
    sent = wait_for(lambda: fake.sent("POST", f"/channels/{DM_CHANNEL_ID}/messages"), what="a DM reply")
    assert "Cho Hyun visited Japan" in sent[-1].body["embeds"][0]["description"]


def test_mention_is_answered_as_a_reply_without_pinging(bot: BotProcess, fake: FakeDiscord) -> None:
    message = fake.incoming_message(
        f"<@{BOT_USER['id']}> what did Cho Hyun do in Tokyo? @everyone", user(13), guild=True, mentions=[BOT_USER]
    )
    fake.dispatch("MESSAGE_CREATE", message)
    sent = wait_for(
        lambda: [
            r for r in fake.sent("POST", f"/channels/{CHANNEL_ID}/messages") if (r.body or {}).get("message_reference")
        ],
        what="a reply to the mention",
    )
    body = sent[-1].body
    assert str(body["message_reference"]["message_id"]) == message["id"]
    assert body["allowed_mentions"]["parse"] == []
    assert body["allowed_mentions"].get("replied_user") is False


def test_messages_in_servers_without_a_mention_are_ignored(bot: BotProcess, fake: FakeDiscord) -> None:
    before = len(fake.sent("POST", f"/channels/{CHANNEL_ID}/messages"))
    fake.dispatch("MESSAGE_CREATE", fake.incoming_message("who is cho hyun?", user(14), guild=True))
    fake.dispatch(
        "MESSAGE_CREATE",
        fake.incoming_message(f"<@{BOT_USER['id']}> hi", {**user(15), "bot": True}, guild=True, mentions=[BOT_USER]),
    )
    time.sleep(1.0)
    assert len(fake.sent("POST", f"/channels/{CHANNEL_ID}/messages")) == before


def test_abstention_offers_suggestion_buttons_that_answer(bot: BotProcess, fake: FakeDiscord) -> None:
    reply = ask(fake, "How many missiles did North Korea launch?", user(16))
    data = reply.body["data"]
    assert data["content"].startswith("The article does not say.")
    buttons = [c for row in data["components"] for c in row["components"]]
    assert 1 <= len(buttons) <= 3
    assert all(b["custom_id"].startswith("qabot:pick:") and len(b["label"]) <= 80 for b in buttons)
    message = fake.message(CHANNEL_ID, data)
    press = fake.interaction(3, {"custom_id": buttons[0]["custom_id"], "component_type": 2}, user(16), message=message)
    fake.dispatch("INTERACTION_CREATE", press)
    answered = callback_for(fake, press)
    assert answered.body["type"] == 4
    assert answered.body["data"]["embeds"][0]["description"].startswith("> ")


def test_feedback_button_is_stored(bot: BotProcess, fake: FakeDiscord, workdir: Path) -> None:
    reply = ask(fake, "Who is Yoon Suk Yeol?", user(17))
    message = fake.message(CHANNEL_ID, reply.body["data"])
    custom_id = reply.body["data"]["components"][0]["components"][0]["custom_id"]
    press = fake.interaction(3, {"custom_id": custom_id, "component_type": 2}, user(17), message=message)
    fake.dispatch("INTERACTION_CREATE", press)
    answered = callback_for(fake, press)
    assert answered.body["data"]["flags"] & EPHEMERAL
    assert "Thanks" in answered.body["data"]["content"]
    with sqlite3.connect(workdir / "qabot.sqlite3") as db:
        rows = db.execute("SELECT fact_id, vote, user_hash FROM votes").fetchall()
    assert ("ishiba-lee-summit:p8.s1", 1) in [(fact, vote) for fact, vote, _ in rows]
    assert all(user(17)["id"] not in user_hash for _, _, user_hash in rows)


def test_cooldown_answers_with_a_friendly_ephemeral_message(bot: BotProcess, fake: FakeDiscord) -> None:
    who = user(18)
    replies = [ask(fake, "Who is Cho Hyun?", who) for _ in range(6)]
    assert all(r.body["type"] == 4 and "embeds" in r.body["data"] for r in replies[:5])
    last = replies[5].body["data"]
    assert last["flags"] & EPHEMERAL
    assert "asking quickly" in last["content"]
    # Another user is not slowed down.
    assert "embeds" in ask(fake, "Who is Cho Hyun?", user(19)).body["data"]


def test_still_answers_after_the_gateway_connection_drops(bot: BotProcess, fake: FakeDiscord) -> None:
    connections = fake.identifies + fake.resumes
    fake.drop_connection(4000)
    wait_for(lambda: fake.identifies + fake.resumes > connections, 30, "the bot to reconnect")
    time.sleep(0.5)
    reply = ask(fake, "When did Kishida travel to Seoul?", user(20))
    assert "Kishida" in reply.body["data"]["embeds"][0]["description"]
    bot.alive()


def reload_fails_and_old_facts_serve(process: BotProcess, fake: FakeDiscord, why: str, who: dict[str, Any]) -> None:
    """SIGHUP: the reload fails saying ``why``, and the old facts still answer."""
    process.process.send_signal(signal.SIGHUP)
    wait_for(lambda: "knowledge reload failed" in process.output(), what="the reload to fail")
    assert why in process.output()
    reply = ask(fake, "Who is the Japanese foreign minister?", who)
    assert "Takeshi Iwaya" in reply.body["data"]["embeds"][0]["description"]


def test_sighup_with_broken_knowledge_keeps_the_old_facts(bot: BotProcess, fake: FakeDiscord, workdir: Path) -> None:
    broken = workdir / "knowledge" / "broken.txt"
    broken.write_bytes(b"\xff\xfe not utf-8")
    try:
        reload_fails_and_old_facts_serve(bot, fake, "broken.txt", user(21))
    finally:
        broken.unlink()
    bot.process.send_signal(signal.SIGHUP)
    wait_for(lambda: "Reloaded: 1 article, 10 facts." in bot.output(), what="the reload to succeed")
    bot.alive()


def test_restart_does_not_sync_unchanged_commands(bot: BotProcess, fake: FakeDiscord, workdir: Path) -> None:
    uploads = len(fake.sent("PUT", "/commands"))
    second = BotProcess(fake, workdir)
    try:
        wait_for(lambda: (second.alive(), "commands unchanged" in second.output())[1], 30, "the second bot to start")
    finally:
        assert second.stop() == 0
    assert len(fake.sent("PUT", "/commands")) == uploads
    assert TOKEN not in second.output()


def test_sync_command_uploads_and_exits(fake: FakeDiscord, tmp_path: Path) -> None:
    before = len(fake.sent("PUT", "/commands"))
    env = bot_env(fake, ROOT / "knowledge", tmp_path / "db.sqlite3")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "sync"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(fake.sent("PUT", "/commands")) == before + 1
    assert TOKEN not in result.stdout + result.stderr


def test_a_refused_token_exits_2_without_printing_it(fake: FakeDiscord, tmp_path: Path) -> None:
    env = bot_env(fake, ROOT / "knowledge", tmp_path / "db.sqlite3")
    fake.fault = lambda method, path: (
        (401, {"message": "401: Unauthorized", "code": 0}, {}) if path == "/users/@me" else None
    )
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
    finally:
        fake.fault = None
    assert result.returncode == 2
    assert "QABOT_DISCORD_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_sigterm_before_the_gateway_answers_exits_cleanly(fake: FakeDiscord, tmp_path: Path) -> None:
    """Stopping while the shard still retries its first connection must not hang."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    gateway = {
        "url": f"ws://127.0.0.1:{port}/gateway",
        "shards": 1,
        "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
    }
    fake.fault = lambda method, path: (200, gateway, {}) if path == "/gateway/bot" else None
    (tmp_path / "knowledge").mkdir()
    shutil.copy(ROOT / "knowledge" / "ishiba-lee-summit.txt", tmp_path / "knowledge")
    bot = BotProcess(fake, tmp_path)
    try:
        wait_for(lambda: (bot.alive(), "Failed to connect" in bot.output())[1], 30, "the shard to retry")
    finally:
        fake.fault = None
        started = time.monotonic()
        code = bot.stop()
    assert code == 0, bot.output()
    assert time.monotonic() - started < 10


def test_sighup_with_a_fifo_and_a_link_loop_fails_fast_and_sigterm_still_stops(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    process = BotProcess(fake, tmp_path)
    try:
        wait_for(lambda: process.alive() and "ready as qabot" in process.output(), 30, "the bot to be ready")
        os.mkfifo(tmp_path / "knowledge" / "pipe.txt")
        (tmp_path / "knowledge" / "img").mkdir()
        (tmp_path / "knowledge" / "img" / "a").symlink_to(".")
        (tmp_path / "knowledge" / "img" / "b").symlink_to(".")
        reload_fails_and_old_facts_serve(process, fake, "pipe.txt: not a regular file", user(31))
    finally:
        code = process.stop()
    assert code == 0, process.output()


def test_ask_privately_is_ephemeral(bot: BotProcess, fake: FakeDiscord) -> None:
    payload = fake.slash(
        "ask",
        [{"name": "question", "type": 3, "value": "Who is Cho Hyun?"}, {"name": "private", "type": 5, "value": True}],
        user(41),
    )
    fake.dispatch("INTERACTION_CREATE", payload)
    reply = callback_for(fake, payload)
    assert reply.body["data"]["flags"] & EPHEMERAL
    assert "Cho Hyun" in reply.body["data"]["embeds"][0]["description"]


def test_the_message_menu_asks_the_article(bot: BotProcess, fake: FakeDiscord) -> None:
    message = fake.incoming_message("Who will Lee meet in the United States?", user(42), guild=True)
    data = {
        "id": fake.next_id(),
        "name": "Ask the article",
        "type": 3,
        "target_id": message["id"],
        "resolved": {"messages": {message["id"]: message}},
    }
    payload = fake.interaction(2, data, user(43))
    fake.dispatch("INTERACTION_CREATE", payload)
    reply = callback_for(fake, payload)
    assert "Donald Trump" in reply.body["data"]["embeds"][0]["description"]


def test_status_is_for_the_owner_and_shows_the_bot(bot: BotProcess, fake: FakeDiscord) -> None:
    refused = fake.slash("status", [], user(44))
    fake.dispatch("INTERACTION_CREATE", refused)
    assert "can't use this command" in callback_for(fake, refused).body["data"]["content"]
    owner = fake.slash("status", [], user(1))  # the application's owner in the fake Discord
    fake.dispatch("INTERACTION_CREATE", owner)
    data = callback_for(fake, owner).body["data"]
    assert data["flags"] & EPHEMERAL
    fields = {field["name"]: field["value"] for field in data["embeds"][0]["fields"]}
    assert fields["Knowledge"] == "1 article, 10 facts"
    assert "answered" in fields["Questions since start"] and "#0:" in fields["Shards"]
    assert fields["Feedback database"].endswith("KB")


def article_command(
    fake: FakeDiscord,
    sub: str,
    options: list[dict[str, Any]],
    who: dict[str, Any],
    resolved: dict[str, Any] | None = None,
) -> Request:
    data: dict[str, Any] = {
        "id": fake.next_id(),
        "name": "article",
        "type": 1,
        "options": [{"name": sub, "type": 1, "options": options}],
    }
    if resolved:
        data["resolved"] = resolved
    payload = fake.interaction(2, data, who)
    fake.dispatch("INTERACTION_CREATE", payload)
    answered = callback_for(fake, payload)
    if answered.body["type"] == 4:
        return answered  # answered at once, not deferred
    path = f"/webhooks/{APP_ID}/{payload['token']}"
    followed: Request = wait_for(
        lambda: next((r for r in fake.sent() if r.path.startswith(path) and r.method in ("POST", "PATCH")), None),
        what="the follow-up",
    )
    return followed


def upload(fake: FakeDiscord, sub: str, name: str, data: bytes, who: dict[str, Any]) -> Request:
    attachment = fake.attachment(name, data)
    return article_command(
        fake,
        sub,
        [{"name": "file", "type": 11, "value": attachment["id"]}],
        who,
        {"attachments": {attachment["id"]: attachment}},
    )


def test_articles_are_added_listed_and_removed_by_the_owner_only(
    bot: BotProcess, fake: FakeDiscord, workdir: Path
) -> None:
    story = (
        b"Harbor reopens after storm\n\nBy Ann Keller\n\n"
        b"The harbor of Marlow reopened on Monday after a week of repairs.\n\nShare this story\n"
    )
    refused = fake.slash("article", [], user(51))
    refused["data"]["options"] = [{"name": "list", "type": 1, "options": []}]
    fake.dispatch("INTERACTION_CREATE", refused)
    assert "can't use this command" in callback_for(fake, refused).body["data"]["content"]

    bad = upload(fake, "add", "broken.txt", b"\xff\xfe not text", user(1))
    assert "Not added" in bad.body["content"] and "UTF-8" in bad.body["content"]
    added = upload(fake, "add", "Marlow Harbor.txt", story, user(1))
    assert "Added `marlow-harbor` (1 fact)" in added.body["content"] and "Reloaded: 2 articles" in added.body["content"]
    assert (workdir / "knowledge" / "marlow-harbor.txt").read_bytes() == story
    reply = ask(fake, "When did the harbor of Marlow reopen?", user(52))
    assert "reopened on Monday" in reply.body["data"]["embeds"][0]["description"]

    listed = article_command(fake, "list", [], user(1))
    assert "marlow-harbor" in listed.body["data"]["content"]
    removed = article_command(fake, "remove", [{"name": "article", "type": 3, "value": "marlow-harbor"}], user(1))
    assert "Removed `marlow-harbor`" in removed.body["content"] and "Reloaded: 1 article" in removed.body["content"]
    assert not (workdir / "knowledge" / "marlow-harbor.txt").exists()
