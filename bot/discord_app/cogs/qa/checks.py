"""Checks for app commands, as decorators: who may run a command, and how often.

A failed check raises an ``app_commands.CheckFailure`` (or ``CommandOnCooldown``), which
the cog's error handler turns into an ephemeral reply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.discord_app.cogs.qa.protocols import LimitsRate

if TYPE_CHECKING:
    from bot.discord_app.bot import QABot

T = TypeVar("T")


async def not_too_fast(interaction: discord.Interaction[QABot]) -> bool:
    cog = interaction.client.get_cog("QA")
    retry_after = cog.cooldowns.hit(interaction.user.id) if isinstance(cog, LimitsRate) else 0.0
    if retry_after:
        settings = interaction.client.settings
        raise app_commands.CommandOnCooldown(
            app_commands.Cooldown(settings.cooldown_rate, settings.cooldown_seconds), retry_after
        )
    return True


def cooldown() -> Callable[[T], T]:
    """The per-user question rate limit from the settings (shared with DMs and mentions)."""
    return app_commands.check(not_too_fast)


def owner_only() -> Callable[[T], T]:
    """Only the bot's owner (the application owner, or ``QABOT_OWNER_ID``)."""

    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        if await interaction.client.is_owner(interaction.user):
            return True
        raise app_commands.CheckFailure("bot owner only")

    return app_commands.check(predicate)


def owner_or_manage_guild() -> Callable[[T], T]:
    """The bot's owner, or a member allowed to manage the server."""

    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        if await interaction.client.is_owner(interaction.user):
            return True
        if isinstance(interaction.user, discord.Member) and interaction.user.guild_permissions.manage_guild:
            return True
        raise app_commands.CheckFailure("manage server or bot owner only")

    return app_commands.check(predicate)


def article_editor() -> Callable[[T], T]:
    """The bot's owner; and members who may manage the server, when
    ``QABOT_ARTICLE_EDITORS=managers``."""

    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        if await interaction.client.is_owner(interaction.user):
            return True
        managers = interaction.client.settings.article_editors == "managers"
        member = interaction.user
        if managers and isinstance(member, discord.Member) and member.guild_permissions.manage_guild:
            return True
        raise app_commands.CheckFailure("article editors only")

    return app_commands.check(predicate)
