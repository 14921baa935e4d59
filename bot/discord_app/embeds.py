"""Discord rendering of answers: embeds and plain replies within Discord's limits.

Every text is cut at a word boundary to fit (2,000 characters a message, 256 an embed
title, 4,096 an embed description, 2,048 a footer, 6,000 all of a message's embeds),
so Discord never rejects a reply for its size; :func:`fit` enforces the total last.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import discord

from bot.engine.answer import Answer
from bot.engine.knowledge import Knowledge
from bot.engine.text import clip, printable
from bot.render import NOT_IN_ARTICLE, counted, introduction

if TYPE_CHECKING:
    from bot.discord_app.bot import Status

MESSAGE_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
FIELD_LIMIT = 1024
EMBED_TOTAL_LIMIT = 6000
URL_LIMIT = 2048
CHOICE_LIMIT = 100
CHOICES = 25
COLOUR = discord.Colour.blurple()


# Discord's markdown: emphasis, spoilers, code, masked links and mention markup anywhere;
# quotes, headings and list items at the start of a line. discord.utils.escape_markdown
# leaves the second of two links on a line live, so every such character is escaped
# (Discord shows a backslash-escaped punctuation mark as the mark alone).
_MARKDOWN = re.compile(r"[\\*_~|`\[\]<]|^(\s*)([>#-])", re.MULTILINE)


def shown(text: str) -> str:
    """Text from an article or a user, as Discord shows it: its markdown escaped, so a
    masked link (``[statement](https://...)``) stays visible as text, and spoilers, code
    fences, headings and bold stay literal."""
    return _MARKDOWN.sub(
        lambda found: f"{found.group(1)}\\{found.group(2)}" if found.group(2) else "\\" + found.group(0),
        printable(text),
    )


def code(text: str) -> str:
    """Text shown in inline code (an id): backticks cannot close it early."""
    return "`" + printable(text).replace("`", "'") + "`"


def answer_embed(answer: Answer, knowledge: Knowledge) -> discord.Embed:
    """The answer as an embed: quotes with numbered citations, the source in the footer."""
    budget = DESCRIPTION_LIMIT
    quotes = []
    for number, item in enumerate(answer.facts, start=1):
        line = f"> {shown(clip(item.fact.text, max(10, budget - 16)))} **[{number}]**"
        quotes.append(line)
        budget -= len(line) + 2
        if budget <= 40:
            break
    embed = discord.Embed(
        title=clip(shown(answer.question.strip()) or "Answer", TITLE_LIMIT),
        description="\n\n".join(quotes),
        colour=COLOUR,
    )
    articles = list(dict.fromkeys(item.fact.article_id for item in answer.facts))
    first = knowledge.articles[articles[0]]
    if _linkable(first.url):
        embed.url = first.url
    if len(articles) > 1:
        for article_id in articles[:5]:
            numbers = "".join(
                f"[{n}]" for n, item in enumerate(answer.facts, start=1) if item.fact.article_id == article_id
            )
            embed.add_field(
                name=numbers, value=clip(shown(knowledge.articles[article_id].citation()), FIELD_LIMIT), inline=False
            )
    ids = ", ".join(item.fact.id for item in answer.facts)
    embed.set_footer(text=clip(f"{first.citation()} · {ids} · confidence {answer.confidence:.2f}", FOOTER_LIMIT))
    return fit(embed)


def _linkable(url: str) -> bool:
    """Whether Discord takes ``url`` as an embed's link: http(s), at most 2,048 characters."""
    return url.startswith(("https://", "http://")) and len(url) <= URL_LIMIT and not any(c.isspace() for c in url)


def fit(embed: discord.Embed) -> discord.Embed:
    """``embed`` within Discord's 6,000 characters in all: the footer, then the fields,
    then the description give way, each cut at a word boundary."""
    excess = len(embed) - EMBED_TOTAL_LIMIT
    if excess > 0 and embed.footer.text:
        embed.set_footer(text=clip(embed.footer.text, max(40, len(embed.footer.text) - excess)))
    while len(embed) > EMBED_TOTAL_LIMIT and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    excess = len(embed) - EMBED_TOTAL_LIMIT
    if excess > 0 and embed.description:
        embed.description = clip(embed.description, max(1, len(embed.description) - excess))
    return embed


def abstain_text(answer: Answer) -> str:
    lines = [NOT_IN_ARTICLE]
    if answer.suggestions:
        lines.append("Did you mean one of these? Press a button to read it.")
    return "\n".join(lines)


def help_text(knowledge: Knowledge) -> str:
    return clip(
        shown(introduction(knowledge))
        + "\n\nUse `/ask` (it suggests questions as you type), send me a direct message, "
        "or mention me with your question. `/facts` lists what I know and `/source` shows where it comes from.",
        MESSAGE_LIMIT,
    )


def status_embed(status: Status) -> discord.Embed:
    """/status: uptime, shards, knowledge, questions since the start, database size."""
    hours, rest = divmod(int(status.uptime), 3600)
    embed = discord.Embed(title="Status", colour=COLOUR)
    embed.add_field(name="Uptime", value=f"{hours} h {rest // 60} min")
    shards = ", ".join(
        f"#{shard}: {latency * 1000:.0f} ms" if math.isfinite(latency) else f"#{shard}: connecting"
        for shard, latency in sorted(status.shards.items())
    )
    embed.add_field(name="Shards", value=clip(shards or "none connected", FIELD_LIMIT))
    embed.add_field(name="Knowledge", value=f"{counted(status.articles, 'article')}, {counted(status.facts, 'fact')}")
    embed.add_field(name="Questions since start", value=f"{status.answered} answered, {status.abstained} abstained")
    size = "unavailable" if status.database_bytes is None else f"{status.database_bytes / 1024:.0f} KB"
    embed.add_field(name="Feedback database", value=size)
    return fit(embed)


def source_embed(knowledge: Knowledge) -> discord.Embed:
    embed = discord.Embed(title="Sources", colour=COLOUR)
    for article in list(knowledge.articles.values())[:25]:
        details = [part for part in (article.outlet, article.published, article.dateline, article.url) if part]
        embed.add_field(
            name=clip(shown(article.title), TITLE_LIMIT),
            value=clip(shown(" · ".join(details)) or "no details known", FIELD_LIMIT),
            inline=False,
        )
    if len(knowledge.articles) > 25:
        embed.set_footer(text=f"and {len(knowledge.articles) - 25} more articles")
    return fit(embed)


def fact_pages(knowledge: Knowledge, article_id: str | None = None, per_page: int = 8) -> list[discord.Embed]:
    """The fact base as embeds, a page each, never longer than an embed allows."""
    facts = [fact for fact in knowledge.facts if article_id is None or fact.article_id == article_id]
    pages: list[discord.Embed] = []
    lines: list[str] = []
    size = 0
    for fact in facts:
        line = f"{code(fact.id)} {shown(clip(fact.text, 400))}"
        if lines and (len(lines) >= per_page or size + len(line) + 1 > DESCRIPTION_LIMIT - 100):
            pages.append(discord.Embed(title="Facts", description="\n".join(lines), colour=COLOUR))
            lines, size = [], 0
        lines.append(line)
        size += len(line) + 1
    if lines or not pages:
        pages.append(discord.Embed(title="Facts", description="\n".join(lines) or "No facts.", colour=COLOUR))
    for number, page in enumerate(pages, start=1):
        page.set_footer(text=f"Page {number} of {len(pages)}")
    return [fit(page) for page in pages]
