"""What the cog's buttons and checks need of the cog, as protocols: they find the cog by
name on the bot and use it through these, so no module here imports the cog back."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import discord

from bot.discord_app.cogs.qa.cooldowns import Cooldowns


@runtime_checkable
class ShowsFacts(Protocol):
    async def show_fact(self, interaction: discord.Interaction[Any], fact_id: str) -> None: ...


@runtime_checkable
class LimitsRate(Protocol):
    cooldowns: Cooldowns
