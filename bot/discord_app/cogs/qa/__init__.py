"""The question-answering feature: the cog, its views, cooldowns, checks and replies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.discord_app.cogs.qa.cog import QA

if TYPE_CHECKING:
    from bot.discord_app.bot import QABot


async def setup(bot: QABot) -> None:
    await bot.add_cog(QA(bot))
