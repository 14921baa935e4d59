"""The question-answering cog: /ask, /facts, /source, /help, /unanswered, /reload, DMs and mentions.

A thin surface: questions go to the engine through the bot's conversations, answers
come back as :class:`Reply` values built in ``replies``. Who may run a command and how
often are decorators from ``checks``. Errors in app commands are handled once, in
:meth:`QA.on_app_command_error`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.articles import add_article, remove_article
from bot.discord_app import embeds
from bot.discord_app.cogs.qa import checks
from bot.discord_app.cogs.qa.cooldowns import Cooldowns
from bot.discord_app.cogs.qa.replies import Reply, reply_for, send_reply, send_to_message
from bot.discord_app.cogs.qa.views import FactPages, FeedbackButton, SuggestionButton
from bot.engine.answer import Answer
from bot.engine.knowledge import KnowledgeError
from bot.engine.text import clip, normalize
from bot.render import counted

if TYPE_CHECKING:
    from bot.discord_app.bot import QABot

log = logging.getLogger(__name__)

QUESTION_MAX_LENGTH = 300
ASK_MENU = "Ask the article"


def _conversation(interaction: discord.Interaction[QABot]) -> str:
    """Whose conversation a question belongs to: one user in one channel (or DM)."""
    return f"{interaction.guild_id or 'dm'}:{interaction.channel_id or 0}:{interaction.user.id}"


class QA(commands.Cog):
    """Answers questions about the articles in the knowledge folder."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        settings = bot.settings
        self.cooldowns = Cooldowns(settings.cooldown_rate, settings.cooldown_seconds)
        # When each user was last told to slow down: one notice per cooldown window.
        self._warned: dict[int, float] = {}
        # Questions answered and abstained on since the start, for /status.
        # A message's context menu: its text asked as a question.
        self.ask_menu = app_commands.ContextMenu(name=ASK_MENU, callback=self.ask_message)
        self.ask_menu.add_check(checks.not_too_fast)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(FeedbackButton, SuggestionButton)
        self.bot.tree.add_command(self.ask_menu)
        self._previous_on_error = self.bot.tree.on_error
        self.bot.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.ask_menu.name, type=self.ask_menu.type)
        self.bot.tree.on_error = self._previous_on_error  # type: ignore[method-assign]

    # -- answering -----------------------------------------------------------------

    async def answer(self, question: str, user_id: int, conversation: str) -> Answer:
        """Answer as the next turn of ``conversation`` (a DM, or a user in a channel), on
        the engine's thread."""
        question = question[: self.bot.settings.max_question_chars]
        answer = await self.bot.answer(conversation, question)
        if answer.kind == "abstain":
            self.bot.store.record_unanswered(user_id, question, normalize(question))
        log.debug("question from %s answered as %s", user_id, answer.kind)
        return answer

    @app_commands.command(name="ask", description="Ask a question about the article")
    @app_commands.describe(question="Your question, in your own words", private="Only you see the answer")
    @checks.cooldown()
    async def ask(
        self,
        interaction: discord.Interaction[QABot],
        question: app_commands.Range[str, 1, QUESTION_MAX_LENGTH],
        private: bool = False,
    ) -> None:
        answer = await self.answer(question, interaction.user.id, _conversation(interaction))
        await send_reply(interaction, reply_for(answer, self.bot.knowledge), ephemeral=private)

    async def ask_message(self, interaction: discord.Interaction[QABot], message: discord.Message) -> None:
        """The "Ask the article" menu of a message: its text, asked as a question."""
        question = message.content.strip()
        if not question:
            await interaction.response.send_message("That message has no text to ask about.", ephemeral=True)
            return
        answer = await self.answer(question[:QUESTION_MAX_LENGTH], interaction.user.id, _conversation(interaction))
        await send_reply(interaction, reply_for(answer, self.bot.knowledge))

    async def show_fact(self, interaction: discord.Interaction[QABot], fact_id: str) -> None:
        """Answer with one fact: a "did you mean" suggestion that was picked."""
        answer = self.bot.matcher.answer_fact(fact_id)
        if answer is None:
            await interaction.response.send_message("That fact is no longer in the knowledge base.", ephemeral=True)
            return
        await send_reply(interaction, reply_for(answer, self.bot.knowledge))

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
            await interaction.response.send_message(
                f"There is no article {embeds.code(clip(article, 100))}.", ephemeral=True
            )
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
        return self._article_choices(current)

    def _article_choices(self, current: str) -> list[app_commands.Choice[str]]:
        """Article ids holding what is typed so far, for autocomplete."""
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
    @checks.owner_or_manage_guild()
    async def unanswered(self, interaction: discord.Interaction[QABot]) -> None:
        rows = await self.bot.store.top_unanswered(10)
        if not self.bot.store.available or rows is None:
            text = "The feedback database is unavailable right now."
        elif not rows:
            text = "No unanswered questions so far."
        else:
            text = "\n".join(f"{count}\u00d7 {embeds.shown(clip(question, 150))}" for question, count in rows)
        await interaction.response.send_message(clip(text, embeds.MESSAGE_LIMIT), ephemeral=True)

    article = app_commands.Group(
        name="article",
        description="Add, list or remove the articles the bot answers from",
        default_permissions=discord.Permissions(manage_guild=True),
    )

    @article.command(name="add", description="Add an article: a .txt, .md or .html file")
    @app_commands.describe(file="The article, as a file")
    @checks.article_editor()
    async def article_add(self, interaction: discord.Interaction[QABot], file: discord.Attachment) -> None:
        limit = self.bot.settings.article_upload_bytes
        if file.size > limit:
            text = f"That file is {file.size:,} bytes; the limit is {limit:,}."
            await interaction.response.send_message(text, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        folder = self.bot.settings.knowledge_dir
        try:
            article_id, count = await asyncio.to_thread(add_article, folder, file.filename, data, limit=limit)
        except KnowledgeError as exc:
            await interaction.followup.send(
                clip(f"Not added: {embeds.shown(str(exc))}", embeds.MESSAGE_LIMIT), ephemeral=True
            )
            return
        _, reloaded = await self.bot.reload_knowledge()
        text = f"Added {embeds.code(article_id)} ({counted(count, 'fact')}). {embeds.shown(reloaded)}"
        await interaction.followup.send(clip(text, embeds.MESSAGE_LIMIT), ephemeral=True)

    @article.command(name="list", description="The articles the bot answers from")
    @checks.article_editor()
    async def article_list(self, interaction: discord.Interaction[QABot]) -> None:
        knowledge = self.bot.knowledge
        lines = [
            f"{embeds.code(article.id)} {embeds.shown(article.title)} "
            f"({counted(len(knowledge.facts_of(article.id)), 'fact')})"
            for article in knowledge.articles.values()
        ]
        await interaction.response.send_message(
            clip("\n".join(lines) or "No articles.", embeds.MESSAGE_LIMIT), ephemeral=True
        )

    @article.command(name="remove", description="Remove an article")
    @app_commands.describe(article="The article's id")
    @checks.article_editor()
    async def article_remove(self, interaction: discord.Interaction[QABot], article: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            await asyncio.to_thread(remove_article, self.bot.settings.knowledge_dir, article)
        except KnowledgeError as exc:
            text = f"Not removed: {embeds.shown(str(exc))}"
            await interaction.followup.send(clip(text, embeds.MESSAGE_LIMIT), ephemeral=True)
            return
        _, reloaded = await self.bot.reload_knowledge()
        text = f"Removed {embeds.code(article)}. {embeds.shown(reloaded)}"
        await interaction.followup.send(clip(text, embeds.MESSAGE_LIMIT), ephemeral=True)

    @article_remove.autocomplete("article")
    async def article_autocomplete(
        self, interaction: discord.Interaction[QABot], current: str
    ) -> list[app_commands.Choice[str]]:
        return self._article_choices(current)

    @app_commands.command(name="status", description="How the bot is doing (bot owner only)")
    @app_commands.default_permissions(administrator=True)
    @checks.owner_only()
    async def status(self, interaction: discord.Interaction[QABot]) -> None:
        await interaction.response.send_message(embed=embeds.status_embed(self.bot.state()), ephemeral=True)

    @app_commands.command(name="reload", description="Load the knowledge folder again (bot owner only)")
    @app_commands.default_permissions(administrator=True)
    @checks.owner_only()
    async def reload(self, interaction: discord.Interaction[QABot]) -> None:
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
            await self._send(
                message, direct, Reply(content=f"You're asking quickly! Try again in {retry_after:.0f} s.")
            )
            return
        guild = message.guild.id if message.guild else "dm"
        answer = await self.answer(question, message.author.id, f"{guild}:{message.channel.id}:{message.author.id}")
        await self._send(message, direct, reply_for(answer, self.bot.knowledge))

    async def _send(self, message: discord.Message, direct: bool, reply: Reply) -> None:
        try:
            await send_to_message(message, reply, direct=direct)
        except discord.HTTPException as exc:
            log.warning("could not reply to message %s: %s", message.id, exc)

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
