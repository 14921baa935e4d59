"""The cog's callbacks with fake interactions that enforce Discord's response rules."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.discord_app import embeds
from bot.discord_app.bot import QABot, intents
from bot.discord_app.cogs.qa.cog import QA
from bot.discord_app.cogs.qa.replies import reply_for
from bot.discord_app.cogs.qa.views import FeedbackButton
from bot.engine.answer import Answer, ScoredFact
from bot.engine.knowledge import Fact
from bot.settings import load_settings


class FakeResponse:
    """Like ``InteractionResponse``: one response per interaction, ``is_done()`` a method."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def is_done(self) -> bool:
        return bool(self.sent)

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        if self.sent:
            raise discord.InteractionResponded(None)  # type: ignore[arg-type]
        self.sent.append({"content": content, **kwargs})

    async def edit_message(self, **kwargs: Any) -> None:
        await self.send_message(**kwargs)

    async def defer(self, **kwargs: Any) -> None:
        await self.send_message(deferred=True, **kwargs)


class FakeFollowup:
    def __init__(self, response: FakeResponse) -> None:
        self.response = response
        self.sent: list[dict[str, Any]] = []

    async def send(self, content: str | None = None, **kwargs: Any) -> None:
        if not self.response.is_done():
            raise AssertionError("a followup before any response or defer")
        self.sent.append({"content": content, **kwargs})


class FakeUser:
    def __init__(self, user_id: int) -> None:
        self.id = user_id
        self.bot = False


class FakeInteraction:
    def __init__(self, client: QABot, user_id: int = 42) -> None:
        self.client = client
        self.user = FakeUser(user_id)
        self.response = FakeResponse()
        self.followup = FakeFollowup(self.response)
        self.command = None
        self.message = None
        self.guild_id = 1
        self.channel_id = 2


@pytest.fixture
def bot(tmp_path: Path) -> QABot:
    settings = load_settings(database_path=tmp_path / "db.sqlite3", cooldown_rate=2)
    from bot.engine.index import FactIndex

    return QABot(settings, FactIndex.from_folder(settings.knowledge_dir))


@pytest.fixture
def cog(bot: QABot) -> QA:
    return QA(bot)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def invoke(command: Any, cog: QA, interaction: FakeInteraction, *args: Any) -> None:
    """Run an app command as discord.py does: its checks first, then its body."""

    async def checked() -> None:
        for check in command.checks:
            await check(interaction)
        await command.callback(cog, interaction, *args)

    run(checked())


def test_intents_are_the_fewest_that_work() -> None:
    chosen = intents()
    assert chosen.guilds and chosen.dm_messages and chosen.guild_messages
    assert not chosen.message_content and not chosen.members and not chosen.presences


def test_bot_never_pings(bot: QABot) -> None:
    mentions = bot.allowed_mentions
    assert mentions is not None
    assert mentions.to_dict().get("parse") == []


def test_ask_responds_once_with_an_embed(cog: QA, bot: QABot) -> None:
    interaction = FakeInteraction(bot)
    invoke(cog.ask, cog, interaction, "Will Lee meet Donald Trump?")
    assert len(interaction.response.sent) == 1
    embed = interaction.response.sent[0]["embed"]
    assert "Lee is expected to stop in Japan" in embed.description
    assert isinstance(interaction.response.sent[0]["view"], discord.ui.View)


def test_unanswered_questions_are_stored_without_user_ids(cog: QA, bot: QABot) -> None:
    interaction = FakeInteraction(bot, user_id=123456789)
    invoke(cog.ask, cog, interaction, "What is Ishiba's favourite food?")
    assert interaction.response.sent[0]["content"].startswith("The article does not say.")
    bot.store.drain()
    assert bot.store.sync.top_unanswered() == [("What is Ishiba's favourite food?", 1)]
    rows = bot.store.sync._read("SELECT user_hash FROM unanswered")
    assert rows and "123456789" not in str(rows[0][0])


def test_logging_questions_can_be_turned_off(tmp_path: Path) -> None:
    from bot.engine.index import FactIndex

    settings = load_settings(database_path=tmp_path / "db.sqlite3", log_questions=False)
    quiet = QABot(settings, FactIndex.from_folder(settings.knowledge_dir))
    cog = QA(quiet)
    invoke(cog.ask, cog, FakeInteraction(quiet), "Who wrote Hamlet?")
    quiet.store.drain()
    assert quiet.store.sync.top_unanswered() == []


@pytest.mark.parametrize("responded", [False, True])
def test_errors_get_one_short_ephemeral_apology(
    cog: QA, bot: QABot, responded: bool, caplog: pytest.LogCaptureFixture
) -> None:
    interaction = FakeInteraction(bot)
    if responded:
        run(interaction.response.defer())
    error = app_commands.CommandInvokeError(cog.ask, RuntimeError("boom"))
    run(cog.on_app_command_error(interaction, error))  # type: ignore[arg-type]
    sent = interaction.followup.sent if responded else interaction.response.sent
    assert len(sent) == 1 and sent[0]["ephemeral"] is True
    assert "Sorry" in sent[0]["content"]
    assert "boom" in caplog.text


def test_cooldown_error_is_friendly(cog: QA, bot: QABot) -> None:
    interaction = FakeInteraction(bot)
    error = app_commands.CommandOnCooldown(app_commands.Cooldown(2, 30), 12.3)
    run(cog.on_app_command_error(interaction, error))  # type: ignore[arg-type]
    assert interaction.response.sent[0]["ephemeral"] is True
    assert "Try again in 12 s" in interaction.response.sent[0]["content"]


def test_facts_pages_are_ephemeral_and_turn(cog: QA, bot: QABot) -> None:
    interaction = FakeInteraction(bot)
    invoke(cog.facts, cog, interaction, None)
    first = interaction.response.sent[0]
    assert first["ephemeral"] is True
    view = first["view"]
    assert view.previous.disabled and not view.next.disabled
    turn = FakeInteraction(bot)
    run(view.next.callback(turn))
    assert turn.response.sent[0]["embed"].footer.text == "Page 2 of 2"


def test_facts_of_an_unknown_article(cog: QA, bot: QABot) -> None:
    interaction = FakeInteraction(bot)
    invoke(cog.facts, cog, interaction, "no-such-article")
    assert interaction.response.sent[0]["ephemeral"] is True
    assert "no article" in interaction.response.sent[0]["content"].lower()


def test_feedback_vote_is_recorded(bot: QABot) -> None:
    interaction = FakeInteraction(bot, user_id=7)
    run(FeedbackButton("down", "ishiba-lee-summit:p2.s1").callback(interaction))  # type: ignore[arg-type]
    assert interaction.response.sent[0]["ephemeral"] is True
    assert bot.store.sync.votes() == [("ishiba-lee-summit:p2.s1", -1)]


def test_embeds_stay_within_discord_limits(bot: QABot) -> None:
    long_text = "word " * 3000
    fact = Fact(
        id="x:p1.s1",
        article_id="ishiba-lee-summit",
        paragraph=1,
        sentence=1,
        kind="sentence",
        start=0,
        end=len(long_text),
        text=long_text,
    )
    items = [ScoredFact(fact=fact, score=1.0)] * 3
    answer = Answer(question="q" * 5000, kind="answer", confidence=1.0, facts=items, candidates=items, suggestions=[])
    embed = embeds.answer_embed(answer, bot.knowledge)
    assert len(embed.title or "") <= embeds.TITLE_LIMIT
    assert len(embed.description or "") <= embeds.DESCRIPTION_LIMIT
    assert len(embed) <= embeds.EMBED_TOTAL_LIMIT
    reply = reply_for(answer, bot.knowledge)
    assert reply.view is not None and len(reply.view.children) == 2
    for page in embeds.fact_pages(bot.knowledge):
        assert len(page) <= embeds.EMBED_TOTAL_LIMIT


def test_unanswered_is_for_the_owner_or_server_managers(tmp_path: Path) -> None:
    from bot.engine.index import FactIndex

    settings = load_settings(database_path=tmp_path / "db.sqlite3", owner_id=1)
    owned = QABot(settings, FactIndex.from_folder(settings.knowledge_dir))
    cog = QA(owned)
    with pytest.raises(app_commands.CheckFailure):
        invoke(cog.unanswered, cog, FakeInteraction(owned, user_id=42))
    owner = FakeInteraction(owned, user_id=1)
    invoke(cog.unanswered, cog, owner)
    assert owner.response.sent[0]["ephemeral"] is True
    assert owner.response.sent[0]["content"] == "No unanswered questions so far."


def test_reload_keeps_serving_when_the_new_knowledge_is_broken(tmp_path: Path) -> None:
    import shutil

    from bot.engine.index import FactIndex
    from tests.conftest import KNOWLEDGE

    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    settings = load_settings(database_path=tmp_path / "db.sqlite3", knowledge_dir=folder, owner_id=1)
    bot = QABot(settings, FactIndex.from_folder(folder))
    cog = QA(bot)
    (folder / "empty.txt").write_text("", encoding="utf-8")
    owner = FakeInteraction(bot, user_id=1)
    invoke(cog.reload, cog, owner)
    assert owner.response.sent[0]["deferred"] is True
    assert "Reload failed" in owner.followup.sent[0]["content"] and "empty.txt" in owner.followup.sent[0]["content"]
    assert bot.matcher.answer("Who is Yoon Suk Yeol?").answered
    (folder / "empty.txt").unlink()
    (folder / "extra.txt").write_text("The harbor reopened on Monday after the storm.", encoding="utf-8")
    again = FakeInteraction(bot, user_id=1)
    invoke(cog.reload, cog, again)
    assert "Reloaded: 2 articles" in again.followup.sent[0]["content"]
    assert bot.matcher.answer("When did the harbor reopen?").facts[0].fact.article_id == "extra"
    with pytest.raises(app_commands.CheckFailure):
        invoke(cog.reload, cog, FakeInteraction(bot, user_id=2))


def test_a_corrupt_database_degrades_feedback_but_answering_goes_on(tmp_path: Path) -> None:
    from bot.engine.index import FactIndex

    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"garbage" * 1000)
    settings = load_settings(database_path=path)
    broken = QABot(settings, FactIndex.from_folder(settings.knowledge_dir))
    cog = QA(broken)
    asked = FakeInteraction(broken)
    invoke(cog.ask, cog, asked, "Who is Yoon Suk Yeol?")
    assert "Yoon" in asked.response.sent[0]["embed"].description
    voted = FakeInteraction(broken)
    run(FeedbackButton("up", "ishiba-lee-summit:p8.s1").callback(voted))  # type: ignore[arg-type]
    assert "cannot be saved" in voted.response.sent[0]["content"]


def test_settings_never_show_the_token() -> None:
    settings = load_settings(discord_token="MTAw.secret-token-value")
    assert "secret-token-value" not in repr(settings)
    assert "secret-token-value" not in str(settings.model_dump())


def test_cooldowns_allow_rate_per_window_and_forget_idle_users() -> None:
    from bot.discord_app.cogs.qa.cooldowns import Cooldowns

    limits = Cooldowns(rate=2, per=10.0)
    assert limits.hit(1, now=0.0) == 0.0
    assert limits.hit(1, now=1.0) == 0.0
    assert limits.hit(1, now=2.0) == pytest.approx(8.0)
    assert limits.hit(2, now=2.0) == 0.0  # other users are not slowed down
    assert limits.hit(1, now=10.5) == 0.0  # the first question left the window
    for user in range(100, 1100):
        limits.hit(user, now=11.0)
    limits.hit(5, now=30.0)
    assert len(limits._recent) == 1  # idle users are forgotten


def long_knowledge(tmp_path: Path) -> Path:
    """A folder whose article id is 93 characters long, with long sentences, title and link."""
    folder = tmp_path / "knowledge"
    folder.mkdir()
    article_id = "a-very-long-article-id-" + "x" * 70
    debate = "after a long debate " * 60
    text = "\n\n".join(
        f"The harbor commission approved part {n} of the new breakwater plan {debate}on Monday. "
        f"Item {n} of the harbor plan was approved."
        for n in range(4)
    )
    (folder / f"{article_id}.txt").write_text(text, encoding="utf-8")
    (folder / f"{article_id}.meta.toml").write_text(
        f'title = "{"Harbor " * 60}"\noutlet = "{"Gazette " * 40}"\nurl = "https://example.org/{"p" * 1900}"\n',
        encoding="utf-8",
    )
    return folder


def test_buttons_of_long_article_ids_are_unique_and_reversible(tmp_path: Path) -> None:
    from bot.discord_app.cogs.qa.views import SuggestionButton
    from bot.engine.index import FactIndex

    folder = long_knowledge(tmp_path)
    settings = load_settings(database_path=tmp_path / "db.sqlite3", knowledge_dir=folder)
    bot = QABot(settings, FactIndex.from_folder(folder))
    facts = [fact.id for fact in bot.knowledge.facts]
    assert len(facts) >= 3 and all(len(fact) > 95 for fact in facts)
    view = discord.ui.View()
    for fact in facts:
        view.add_item(SuggestionButton(fact, "label"))
    ids = [getattr(item, "custom_id", None) for item in view.children]
    assert len(set(ids)) == len(facts) and all(custom_id and len(custom_id) <= 100 for custom_id in ids)
    # A pressed button finds its fact again, and the vote is stored under the whole fact id.
    vote = FeedbackButton("up", facts[2])
    pressed: Any = FakeInteraction(bot)
    match = FeedbackButton.__discord_ui_compiled_template__.match(str(vote.item.custom_id))
    assert match is not None
    restored = run(FeedbackButton.from_custom_id(pressed, vote.item, match))
    assert restored.fact_id == facts[2]
    run(restored.callback(pressed))
    assert bot.store.sync.votes() == [(facts[2], 1)]


def test_answer_embeds_stay_within_6000_characters_in_all(tmp_path: Path) -> None:
    from bot.engine.index import FactIndex

    folder = long_knowledge(tmp_path)
    # The lexical engine quotes the several near-equal facts this test needs to fill an embed.
    settings = load_settings(database_path=tmp_path / "db.sqlite3", knowledge_dir=folder, reader=False)
    bot = QABot(settings, FactIndex.from_folder(folder))
    answer = bot.matcher.answer("What did the harbor commission approve after a long debate on Monday?")
    assert answer.answered and len(answer.facts) >= 2
    embed = embeds.answer_embed(answer, bot.knowledge)
    assert len(embed) <= embeds.EMBED_TOTAL_LIMIT
    assert embed.url and len(embed.url) <= embeds.URL_LIMIT


def test_a_locked_database_never_blocks_answering(tmp_path: Path) -> None:
    import sqlite3
    import time

    from bot.engine.index import FactIndex

    settings = load_settings(database_path=tmp_path / "db.sqlite3")
    bot = QABot(settings, FactIndex.from_folder(settings.knowledge_dir))
    cog = QA(bot)
    holder = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the database
    durations: list[float] = []

    async def burst() -> None:
        for number in range(40):
            interaction = FakeInteraction(bot, user_id=1000 + number)
            started = time.perf_counter()
            ask: Any = cog.ask.callback
            await ask(cog, interaction, f"What is Ishiba's favourite food number {number}?")
            durations.append(time.perf_counter() - started)
            assert interaction.response.sent[0]["content"].startswith("The article does not say.")

    try:
        run(burst())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # Each write would wait 2 s for the lock; on the event loop, answers would wait with it.
    assert max(durations) < 0.5, f"an answer took {max(durations):.2f} s with the database locked"
    bot.store.drain()  # the queued questions are stored once the lock is gone
    assert len(bot.store.sync._read("SELECT id FROM unanswered")) >= 1


def test_a_reload_that_hangs_is_given_up_and_the_old_facts_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    from bot import wiring
    from bot.engine.index import FactIndex

    settings = load_settings(database_path=tmp_path / "db.sqlite3", load_timeout=0.5, owner_id=1)
    bot = QABot(settings, FactIndex.from_folder(settings.knowledge_dir))
    release = threading.Event()

    def hanging(settings: Any) -> Any:
        release.wait(30)  # a file system that does not answer
        raise AssertionError("released")

    monkeypatch.setattr(wiring, "load_index", hanging)
    started = time.perf_counter()
    ok, message = run(bot.reload_knowledge())
    release.set()
    assert not ok and "longer than" in message
    assert time.perf_counter() - started < 5
    assert bot.matcher.answer("Who is Yoon Suk Yeol?").answered
