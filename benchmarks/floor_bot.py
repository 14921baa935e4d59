"""The floor of the Discord path: a bare discord.py bot, started as the real one is, that
answers ``/ask`` with a constant string. Its CPU per interaction is what discord.py
itself costs; ``benchmarks/discord_path.py`` measures the real bot against it.

With ``--shaped`` it answers with a constant reply of an answer's shape instead: an
embed quoting one sentence with its citation, and the two feedback buttons. That is what
discord.py costs to send what the real bot sends, before any question is answered."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import discord
import yarl
from discord import app_commands
from discord.ext import commands

QUOTE = (
    "> Japan and South Korea are arranging a visit to Japan by South Korean President Lee Jae Myung "
    "for talks with Prime Minister Shigeru Ishiba, diplomatic sources said. [1]"
)
CITATION = "[1] kyodo-lee-ishiba-visit, paragraph 1, sentence 1"


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

    shaped = "--shaped" in sys.argv[1:]

    @bot.tree.command(name="ask", description="Ask a question about the article")
    async def ask(interaction: discord.Interaction, question: app_commands.Range[str, 1, 300]) -> None:
        if not shaped:
            await interaction.response.send_message("The article does not say.")
            return
        embed = discord.Embed(title=question, description=QUOTE, colour=discord.Colour.blurple())
        embed.set_footer(text=CITATION)
        view = discord.ui.View(timeout=None)
        for vote, emoji in (("up", "\N{THUMBS UP SIGN}"), ("down", "\N{THUMBS DOWN SIGN}")):
            view.add_item(discord.ui.Button(emoji=emoji, custom_id=f"qabot:vote:{vote}:0123456789abcdef"))
        await interaction.response.send_message(embed=embed, view=view)
        view.stop()

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
