"""Replies: what the bot sends for one answer, as a typed value, and how it is sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord

from bot.discord_app import embeds
from bot.discord_app.cogs.qa.views import FeedbackButton, SuggestionButton
from bot.engine.answer import Answer
from bot.engine.knowledge import Knowledge
from bot.render import render_text


@dataclass(frozen=True, slots=True)
class Reply:
    """A message to send: text, an embed, buttons; only what is set is sent."""

    content: str | None = None
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of discord.py's send methods for this reply."""
        found: dict[str, Any] = {}
        if self.content is not None:
            found["content"] = self.content
        if self.embed is not None:
            found["embed"] = self.embed
        if self.view is not None:
            found["view"] = self.view
        return found

    def forget_view(self) -> None:
        """Stop tracking a sent reply's view: its buttons are dynamic items, found by custom
        id, and otherwise discord.py would keep every answer's view in memory for good."""
        if self.view is not None:
            self.view.stop()


def reply_for(answer: Answer, knowledge: Knowledge) -> Reply:
    """The reply that answers one question."""
    if answer.kind == "answer":
        view = discord.ui.View(timeout=None)
        top = answer.facts[0].fact.id
        view.add_item(FeedbackButton("up", top))
        view.add_item(FeedbackButton("down", top))
        return Reply(embed=embeds.answer_embed(answer, knowledge), view=view)
    if answer.kind in ("greeting", "help"):
        return Reply(content=embeds.help_text(knowledge))
    if answer.kind in ("empty", "thanks", "goodbye", "meta"):
        return Reply(content=embeds.shown(render_text(answer, knowledge)))
    if not answer.suggestion_ids:
        return Reply(content=embeds.abstain_text(answer))
    view = discord.ui.View(timeout=None)
    for fact_id, text in zip(answer.suggestion_ids, answer.suggestions, strict=True):
        view.add_item(SuggestionButton(fact_id, text))
    return Reply(content=embeds.abstain_text(answer), view=view)


async def send_reply(interaction: discord.Interaction[Any], reply: Reply, *, ephemeral: bool = False) -> None:
    """Answer an interaction with ``reply`` (``ephemeral``: seen by the asker only)."""
    try:
        await interaction.response.send_message(**reply.kwargs(), ephemeral=ephemeral)
    finally:
        reply.forget_view()


async def send_to_message(message: discord.Message, reply: Reply, *, direct: bool) -> None:
    """Answer a message: in its DM channel, or as a reply that pings nobody."""
    try:
        if direct:
            await message.channel.send(**reply.kwargs())
        else:
            await message.reply(**reply.kwargs(), mention_author=False)
    finally:
        reply.forget_view()
