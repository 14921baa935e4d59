"""Plain-text rendering of answers, for the terminal chat and ``ask``.

Quotes are always the fact's original text (its span in the article), numbered, with a
source line per cited article. Colour is optional and only ever ANSI styling around the
same text, so a pipe gets exactly the same words. Text from articles and users passes
through :func:`printable` first, so it can never carry terminal escape sequences.
"""

from __future__ import annotations

from bot.engine.answer import Answer
from bot.engine.knowledge import Knowledge
from bot.engine.text import printable

_STYLES = {"quote": "1", "cite": "36", "dim": "2", "warn": "33"}
NOT_IN_ARTICLE = "The article does not say."


def _style(text: str, name: str, color: bool) -> str:
    text = printable(text)
    return f"\x1b[{_STYLES[name]}m{text}\x1b[0m" if color else text


def introduction(knowledge: Knowledge) -> str:
    """What the bot knows and how to ask, for greetings and help."""
    titles = [article.title for article in knowledge.articles.values()]
    listed = "; ".join(titles[:5]) + (f"; and {len(titles) - 5} more" if len(titles) > 5 else "")
    return printable(
        f"Hi! I answer questions about {listed} ({len(knowledge.facts)} facts). "
        "Ask in your own words, for example who, what, when or where, and I quote the "
        "sentences that answer, with their source. When the article does not say, I tell you."
    )


def render_text(answer: Answer, knowledge: Knowledge, *, color: bool = False) -> str:
    """The whole reply to one question as text."""
    if answer.kind in ("greeting", "help"):
        return introduction(knowledge)
    if answer.kind == "empty":
        return "Please type a question about the article."
    if answer.kind == "abstain":
        lines = [_style(NOT_IN_ARTICLE, "warn", color)]
        if answer.suggestions:
            lines.append("Did you mean:")
            lines += [f"  - {printable(suggestion)}" for suggestion in answer.suggestions]
        return "\n".join(lines)
    lines = []
    cited: dict[str, list[tuple[int, str]]] = {}
    for number, item in enumerate(answer.facts, start=1):
        lines.append(f"{_style(chr(0x201C) + item.fact.text + chr(0x201D), 'quote', color)} [{number}]")
        cited.setdefault(item.fact.article_id, []).append((number, item.fact.id))
    lines.append("")
    # One source line per article: its citation, then which quotes came from where.
    for article_id, quotes in cited.items():
        numbers = "".join(f"[{number}]" for number, _ in quotes)
        ids = ", ".join(fact_id for _, fact_id in quotes)
        lines.append(_style(f"{numbers} {knowledge.articles[article_id].citation()} ({ids})", "cite", color))
    lines.append(_style(f"confidence {answer.confidence:.2f}", "dim", color))
    return "\n".join(lines)
