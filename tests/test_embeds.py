"""Discord rendering: text from articles and users never turns into live markdown."""

from __future__ import annotations

import re

from bot.discord_app import embeds
from bot.discord_app.cogs.qa.replies import reply_for
from bot.engine.answer import Answer, MetaValue, ScoredFact
from bot.engine.knowledge import Knowledge
from bot.engine.parsing import parse_article

# A masked link Discord would render: "[text](" with neither bracket escaped.
LIVE_LINK = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(")

HOSTILE = (
    "Markdown in the news\n\n"
    "The ministry published an [official statement](https://evil.example/phish) on Monday. "
    "Officials called it ||a secret|| and **urgent**, and posted ```code``` and `ticks`.\n"
)


def knowledge() -> Knowledge:
    article, facts = parse_article("md", HOSTILE)
    return Knowledge(
        articles={article.id: article.model_copy(update={"title": "[Win](https://evil.example)"})},
        facts=tuple(facts),
        aliases=(),
    )


def test_article_markdown_is_escaped_in_answer_embeds() -> None:
    known = knowledge()
    facts = [ScoredFact(fact=fact, score=0.9) for fact in known.facts]
    answer = Answer(
        question="what is **this** [x](https://evil.example)?",
        kind="answer",
        confidence=0.9,
        facts=facts,
        candidates=facts,
        suggestions=[],
    )
    embed = embeds.answer_embed(answer, known)
    text = f"{embed.title}\n{embed.description}"
    assert not LIVE_LINK.search(text)
    assert "\\[official statement\\](https://evil.example/phish)" in text
    assert "\\|\\|a secret\\|\\|" in text and "\\*\\*urgent\\*\\*" in text and "\\`\\`\\`code\\`\\`\\`" in text
    assert "\\*\\*this\\*\\*" in str(embed.title)


def test_article_titles_are_escaped_in_help_sources_and_metadata() -> None:
    known = knowledge()
    assert "\\[Win\\](https://evil.example)" in embeds.help_text(known)
    (field,) = embeds.source_embed(known).fields
    assert not LIVE_LINK.search(str(field.name))
    meta = MetaValue(field="title", label="title", value="[Win](https://evil.example)", article_id="md")
    reply = reply_for(
        Answer(question="title?", kind="meta", confidence=1.0, facts=[], candidates=[], suggestions=[], meta=meta),
        known,
    )
    assert reply.content is not None and not LIVE_LINK.search(reply.content)


def test_ids_in_inline_code_cannot_close_it() -> None:
    assert embeds.code("a`b") == "`a'b`"
