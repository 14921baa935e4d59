"""The floor of the Discord path: a bare discord.py bot, started as the real one is, that
answers ``/ask`` with a constant string. Its CPU per interaction is what discord.py
itself costs; ``benchmarks/discord_path.py`` measures the real bot against it."""

from __future__ import annotations

import asyncio
import os
import signal

import discord
import yarl
from discord import app_commands
from discord.ext import commands


class FloorBot(commands.AutoShardedBot):
    def __init__(self) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            max_messages=None,
            help_command=None,
        )

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def on_ready(self) -> None:
        print("ready as qabot", flush=True)


def main() -> None:
    discord.http.Route.BASE = os.environ["QABOT_DISCORD_API_BASE"].rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["QABOT_DISCORD_GATEWAY_URL"])
    discord.VoiceClient.warn_nacl = False
    bot = FloorBot()

    @bot.tree.command(name="ask", description="Ask a question about the article")
    async def ask(interaction: discord.Interaction, question: app_commands.Range[str, 1, 300]) -> None:
        await interaction.response.send_message("The article does not say.")

    async def run() -> None:
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stopping.set)
        async with bot:
            running = asyncio.create_task(bot.start(os.environ["QABOT_DISCORD_TOKEN"]))
            await stopping.wait()
            await bot.close()
            running.cancel()

    asyncio.run(run())


if __name__ == "__main__":
    main()
