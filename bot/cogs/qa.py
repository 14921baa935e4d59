"""The question-answering cog: /ask, /facts, /source, /help, /unanswered, DMs and mentions.

A thin surface: questions go to the engine's matcher, answers come back as embeds from
``bot.embeds``. Feedback and suggestion buttons are dynamic items with fixed custom ids,
so buttons on old messages keep working after a restart. Errors in app commands are
handled once, in :meth:`QA.on_app_command_error`.
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict, deque
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.answer import Answer
from bot.text import clip, normalize

if TYPE_CHECKING:
    from bot.discord_bot import QABot

log = logging.getLogger(__name__)

QUESTION_MAX_LENGTH = 300
_CUSTOM_ID_LIMIT = 100


class Cooldowns:
    """Per-user rate limit: at most ``rate`` questions in any ``per`` seconds.

    Users are kept in least-recently-used order, so forgetting idle users costs O(1) per
    question however many users there are (discord.py's own mappings scan them all).
    """

    def __init__(self, rate: int, per: float) -> None:
        self.rate = rate
        self.per = per
        self._recent: OrderedDict[int, deque[float]] = OrderedDict()

    def hit(self, user_id: int, now: float | None = None) -> float:
        """Count one question; 0 when allowed, else the seconds until the next is."""
        now = time.monotonic() if now is None else now
        while self._recent:
            oldest = next(iter(self._recent.values()))
            if oldest[-1] + self.per > now:
                break
            self._recent.popitem(last=False)
        stamps = self._recent.pop(user_id, None) or deque()
        while stamps and stamps[0] + self.per <= now:
            stamps.popleft()
        self._recent[user_id] = stamps
        if len(stamps) >= self.rate:
            return stamps[0] + self.per - now
        stamps.append(now)
        return 0.0


async def _not_too_fast(interaction: discord.Interaction[QABot]) -> bool:
    cog = interaction.client.get_cog("QA")
    retry_after = cog.cooldowns.hit(interaction.user.id) if isinstance(cog, QA) else 0.0
    if retry_after:
        settings = interaction.client.settings
        raise app_commands.CommandOnCooldown(
            app_commands.Cooldown(settings.cooldown_rate, settings.cooldown_seconds), retry_after
        )
    return True


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"qabot:vote:(?P<vote>up|down):(?P<fact>.+)"
):
    """👍 / 👎 under an answer; the vote is stored with the answered fact."""

    def __init__(self, vote: str, fact_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                emoji="\N{THUMBS UP SIGN}" if vote == "up" else "\N{THUMBS DOWN SIGN}",
                style=discord.ButtonStyle.secondary,
                custom_id=f"qabot:vote:{vote}:{fact_id}"[:_CUSTOM_ID_LIMIT],
            )
        )
        self.vote = vote
        self.fact_id = fact_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackButton:
        return cls(match["vote"], match["fact"])

    async def callback(self, interaction: discord.Interaction[QABot]) -> None:  # type: ignore[override]
        message = interaction.message
        question = ""
        if message is not None and message.embeds and message.embeds[0].title:
            question = message.embeds[0].title
        stored = interaction.client.store.record_vote(
            interaction.user.id, message.id if message else None, self.fact_id, question, self.vote == "up"
        )
        text = "Thanks for the feedback!" if stored else "Thanks! (Feedback cannot be saved right now.)"
        await interaction.response.send_message(text, ephemeral=True)


class SuggestionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"qabot:pick:(?P<fact>.+)"):
    """A "did you mean" suggestion; pressing it answers with that fact."""

    def __init__(self, fact_id: str, label: str = "Show") -> None:
        super().__init__(
            discord.ui.Button(
                label=clip(label, 80),
                style=discord.ButtonStyle.primary,
                custom_id=f"qabot:pick:{fact_id}"[:_CUSTOM_ID_LIMIT],
            )
        )
        self.fact_id = fact_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SuggestionButton:
        return cls(match["fact"], getattr(item, "label", None) or "Show")

    async def callback(self, interaction: discord.Interaction[QABot]) -> None:  # type: ignore[override]
        answer = interaction.client.matcher.answer_fact(self.fact_id)
        if answer is None:
            await interaction.response.send_message("That fact is no longer in the knowledge base.", ephemeral=True)
            return
        await send_reply(interaction, reply_for(interaction.client, answer))


def reply_for(bot: QABot, answer: Answer) -> dict[str, Any]:
    """The message arguments (content, embed, view) that answer one question."""
    if answer.kind == "answer":
        view = discord.ui.View(timeout=None)
        top = answer.facts[0].fact.id
        view.add_item(FeedbackButton("up", top))
        view.add_item(FeedbackButton("down", top))
        return {"embed": embeds.answer_embed(answer, bot.knowledge), "view": view}
    if answer.kind in ("greeting", "help"):
        return {"content": embeds.help_text(bot.knowledge)}
    if answer.kind == "empty":
        return {"content": "Please type a question about the article."}
    reply: dict[str, Any] = {"content": embeds.abstain_text(answer)}
    if answer.suggestion_ids:
        view = discord.ui.View(timeout=None)
        for fact_id, text in zip(answer.suggestion_ids, answer.suggestions, strict=True):
            view.add_item(SuggestionButton(fact_id, text))
        reply["view"] = view
    return reply


def _forget_view(reply: dict[str, Any]) -> None:
    """Stop tracking a sent answer's view: its buttons are dynamic items, found by custom id.

    Otherwise discord.py would keep every answer's view in memory for good.
    """
    view = reply.get("view")
    if view is not None:
        view.stop()


async def send_reply(interaction: discord.Interaction[QABot], reply: dict[str, Any]) -> None:
    try:
        await interaction.response.send_message(**reply)
    finally:
        _forget_view(reply)


class FactPages(discord.ui.View):
    """Buttons that page through the fact base; only the user who asked may turn pages."""

    def __init__(self, pages: list[discord.Embed], user_id: int) -> None:
        super().__init__(timeout=300)
        self.pages = pages
        self.user_id = user_id
        self.index = 0
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.pages) - 1

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        return interaction.user.id == self.user_id

    async def _show(self, interaction: discord.Interaction[Any]) -> None:
        self._update_buttons()
        await interaction.response.edit_message(embed=self.pages[self.index], view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.index = max(0, self.index - 1)
        await self._show(interaction)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.index = min(len(self.pages) - 1, self.index + 1)
        await self._show(interaction)


class QA(commands.Cog):
    """Answers questions about the articles in the knowledge folder."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        settings = bot.settings
        self.cooldowns = Cooldowns(settings.cooldown_rate, settings.cooldown_seconds)
        # When each user was last told to slow down: one notice per cooldown window.
        self._warned: dict[int, float] = {}

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(FeedbackButton, SuggestionButton)
        self._previous_on_error = self.bot.tree.on_error
        self.bot.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._previous_on_error  # type: ignore[method-assign]

    # -- answering -----------------------------------------------------------------

    def answer(self, question: str, user_id: int, conversation: str) -> Answer:
        """Answer as the next turn of ``conversation`` (a DM, or a user in a channel)."""
        question = question[: self.bot.settings.max_question_chars]
        answer = self.bot.conversations.answer(conversation, question)
        if answer.kind == "abstain":
            self.bot.store.record_unanswered(user_id, question, normalize(question))
        log.debug("question from %s answered as %s", user_id, answer.kind)
        return answer

    @app_commands.command(name="ask", description="Ask a question about the article")
    @app_commands.describe(question="Your question, in your own words")
    @app_commands.check(_not_too_fast)
    async def ask(
        self,
        interaction: discord.Interaction[QABot],
        question: app_commands.Range[str, 1, QUESTION_MAX_LENGTH],
    ) -> None:
        channel = interaction.channel_id or 0
        answer = self.answer(
            question, interaction.user.id, f"{interaction.guild_id or 'dm'}:{channel}:{interaction.user.id}"
        )
        await send_reply(interaction, reply_for(self.bot, answer))

    @ask.autocomplete("question")
    async def ask_autocomplete(
        self, interaction: discord.Interaction[QABot], current: str
    ) -> list[app_commands.Choice[str]]:
        completions = self.bot.matcher.completions(current[:QUESTION_MAX_LENGTH], embeds.CHOICES)
        return [
            app_commands.Choice(name=clip(text, embeds.CHOICE_LIMIT), value=clip(text, embeds.CHOICE_LIMIT))
            for text in completions
        ]

    @app_commands.command(name="facts", description="Browse the facts the bot knows")
    @app_commands.describe(article="Only the facts of this article")
    async def facts(self, interaction: discord.Interaction[QABot], article: str | None = None) -> None:
        if article is not None and article not in self.bot.knowledge.articles:
            await interaction.response.send_message(f"There is no article `{clip(article, 100)}`.", ephemeral=True)
            return
        pages = embeds.fact_pages(self.bot.knowledge, article)
        if len(pages) == 1:
            await interaction.response.send_message(embed=pages[0], ephemeral=True)
            return
        await interaction.response.send_message(
            embed=pages[0], view=FactPages(pages, interaction.user.id), ephemeral=True
        )

    @facts.autocomplete("article")
    async def facts_autocomplete(
        self, interaction: discord.Interaction[QABot], current: str
    ) -> list[app_commands.Choice[str]]:
        ids = [article_id for article_id in self.bot.knowledge.articles if current.lower() in article_id.lower()]
        return [
            app_commands.Choice(name=clip(i, embeds.CHOICE_LIMIT), value=i)
            for i in ids[: embeds.CHOICES]
            if len(i) <= 100
        ]

    @app_commands.command(name="source", description="Where the bot's knowledge comes from")
    async def source(self, interaction: discord.Interaction[QABot]) -> None:
        await interaction.response.send_message(embed=embeds.source_embed(self.bot.knowledge))

    @app_commands.command(name="help", description="What the bot knows and how to ask")
    async def help(self, interaction: discord.Interaction[QABot]) -> None:
        await interaction.response.send_message(embeds.help_text(self.bot.knowledge), ephemeral=True)

    @app_commands.command(name="unanswered", description="The questions the bot could not answer most often")
    @app_commands.default_permissions(manage_guild=True)
    async def unanswered(self, interaction: discord.Interaction[QABot]) -> None:
        allowed = await self.bot.is_owner(interaction.user)
        if not allowed and isinstance(interaction.user, discord.Member):
            allowed = interaction.user.guild_permissions.manage_guild
        if not allowed:
            raise app_commands.CheckFailure("manage server or bot owner only")
        rows = self.bot.store.top_unanswered(10)
        if not self.bot.store.available:
            text = "The feedback database is unavailable right now."
        elif not rows:
            text = "No unanswered questions so far."
        else:
            text = "\n".join(f"{count}\u00d7 {clip(question, 150)}" for question, count in rows)
        await interaction.response.send_message(clip(text, embeds.MESSAGE_LIMIT), ephemeral=True)

    @app_commands.command(name="reload", description="Load the knowledge folder again (bot owner only)")
    @app_commands.default_permissions(administrator=True)
    async def reload(self, interaction: discord.Interaction[QABot]) -> None:
        if not await self.bot.is_owner(interaction.user):
            raise app_commands.CheckFailure("bot owner only")
        await interaction.response.defer(ephemeral=True, thinking=True)
        _, message = await self.bot.reload_knowledge()
        await interaction.followup.send(clip(message, embeds.MESSAGE_LIMIT), ephemeral=True)

    # -- direct messages and mentions ------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.bot.user is None or message.author.id == self.bot.user.id:
            return
        direct = message.guild is None
        if not direct and not any(user.id == self.bot.user.id for user in message.mentions):
            return
        question = re.sub(rf"<@!?{self.bot.user.id}>", " ", message.content).strip()
        retry_after = self.cooldowns.hit(message.author.id)
        if retry_after:
            now = time.monotonic()
            if self._warned.get(message.author.id, 0.0) > now:
                return
            self._warned[message.author.id] = now + retry_after
            await self._send(message, direct, {"content": f"You're asking quickly! Try again in {retry_after:.0f} s."})
            return
        guild = message.guild.id if message.guild else "dm"
        answer = self.answer(question, message.author.id, f"{guild}:{message.channel.id}:{message.author.id}")
        await self._send(message, direct, reply_for(self.bot, answer))

    async def _send(self, message: discord.Message, direct: bool, reply: dict[str, Any]) -> None:
        try:
            if direct:
                await message.channel.send(**reply)
            else:
                await message.reply(**reply, mention_author=False)
        except discord.HTTPException as exc:
            log.warning("could not reply to message %s: %s", message.id, exc)
        finally:
            _forget_view(reply)

    # -- errors ----------------------------------------------------------------------

    async def on_app_command_error(
        self, interaction: discord.Interaction[QABot], error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.CommandOnCooldown):
            text = f"You're asking quickly! Try again in {error.retry_after:.0f} s."
        elif isinstance(error, app_commands.CheckFailure):
            text = "You can't use this command here."
        else:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("command /%s failed", command, exc_info=error)
            text = "Sorry, something went wrong while answering. Please try again."
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("could not report an error to the user: %s", exc)


async def setup(bot: QABot) -> None:
    await bot.add_cog(QA(bot))
