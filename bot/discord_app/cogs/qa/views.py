"""Buttons and views: 👍 / 👎 feedback, "did you mean" suggestions, and fact pages.

Feedback and suggestion buttons are dynamic items with fixed custom ids, so buttons on
old messages keep working after a restart; pressing one hands the work to the cog. A
custom id holds at most 100 characters, so it names its fact by :func:`fact_key`, a
short digest of the fact id that the bot looks up again (``QABot.fact_id``): unique and
reversible whatever the length of the article id.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.discord_app.cogs.qa.protocols import ShowsFacts
from bot.discord_app.custom_ids import fact_key
from bot.engine.text import clip

if TYPE_CHECKING:
    from bot.discord_app.bot import QABot


def _fact_id(interaction: discord.Interaction[Any], match: re.Match[str]) -> str:
    """The fact a pressed button's custom id names."""
    client: QABot = interaction.client
    return client.fact_id(match["fact"])


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"qabot:vote:(?P<vote>up|down):(?P<fact>.+)"
):
    """👍 / 👎 under an answer; the vote is stored with the answered fact."""

    def __init__(self, vote: str, fact_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                emoji="\N{THUMBS UP SIGN}" if vote == "up" else "\N{THUMBS DOWN SIGN}",
                style=discord.ButtonStyle.secondary,
                custom_id=f"qabot:vote:{vote}:{fact_key(fact_id)}",
            )
        )
        self.vote = vote
        self.fact_id = fact_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackButton:
        return cls(match["vote"], _fact_id(interaction, match))

    async def callback(self, interaction: discord.Interaction[QABot]) -> None:  # type: ignore[override]
        message = interaction.message
        question = ""
        if message is not None and message.embeds and message.embeds[0].title:
            question = message.embeds[0].title
        stored = await interaction.client.store.record_vote(
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
                custom_id=f"qabot:pick:{fact_key(fact_id)}",
            )
        )
        self.fact_id = fact_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SuggestionButton:
        return cls(_fact_id(interaction, match), getattr(item, "label", None) or "Show")

    async def callback(self, interaction: discord.Interaction[QABot]) -> None:  # type: ignore[override]
        cog = interaction.client.get_cog("QA")
        if isinstance(cog, ShowsFacts):
            await cog.show_fact(interaction, self.fact_id)


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
