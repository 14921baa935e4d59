"""The Discord surface: the bot, its cogs, Discord rendering and the feedback store."""
