"""Plain-text rendering of answers, for the terminal chat and ``ask``.

Quotes are always the fact's original text (its span in the article), numbered, with a
source line per cited article. Colour is optional and only ever ANSI styling around the
same text, so a pipe gets exactly the same words. Text from articles and users passes
through :func:`printable` first, so it can never carry terminal escape sequences.
"""

from __future__ import annotations

from bot.engine import meta
from bot.engine.answer import Answer
from bot.engine.knowledge import Fact, Knowledge
from bot.engine.text import clip, printable

_STYLES = {"quote": "1", "cite": "36", "dim": "2", "warn": "33"}
NOT_IN_ARTICLE = "The article does not say."

# A quote longer than this (a "sentence" with no full stop in a badly saved page) is cut
# at a word with an ellipsis; its citation still points at the whole fact.
QUOTE_CHARS = 1_000


def counted(number: int, noun: str) -> str:
    """A count with its noun: "1 article", "10 facts"."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _style(text: str, name: str, color: bool) -> str:
    text = printable(text)
    return f"\x1b[{_STYLES[name]}m{text}\x1b[0m" if color else text


def introduction(knowledge: Knowledge) -> str:
    """What the bot knows and how to ask, for greetings and help."""
    titles = [article.title for article in knowledge.articles.values()]
    listed = "; ".join(titles[:5]) + (f"; and {len(titles) - 5:,} more" if len(titles) > 5 else "")
    return printable(
        f"Hi! I answer questions about {listed} ({counted(len(knowledge.facts), 'fact')}). "
        "Ask in your own words, for example who, what, when or where, and I quote the "
        "sentences that answer, with their source. When the article does not say, I tell you."
    )


def help_text(knowledge: Knowledge) -> str:
    """How to use the chat: questions, follow-ups, suggestions, leaving."""
    return printable(
        f"{introduction(knowledge)}\n\n"
        "- Ask a question in your own words: who, what, when, where, why, how many.\n"
        '- Follow up as you would in a conversation: "why?", "when was that?", '
        '"what about Trump?", "and after that?".\n'
        "- When the article does not say, I offer numbered suggestions: type the number to read one.\n"
        "- Type quit or bye, or press Ctrl-D, to leave."
    )


def _where(fact: Fact) -> str:
    return "photo caption" if fact.kind == "caption" else f"paragraph {fact.paragraph}"


def render_text(
    answer: Answer, knowledge: Knowledge, *, color: bool = False, verbose: bool = False, pickable: bool = False
) -> str:
    """The whole reply to one question as text. ``verbose`` adds fact ids and the
    confidence; ``pickable`` says that a suggestion is read by typing its number."""
    if answer.kind == "greeting":
        return introduction(knowledge)
    if answer.kind == "help":
        return help_text(knowledge)
    if answer.kind == "thanks":
        return "You're welcome! Ask me anything else about the article."
    if answer.kind == "goodbye":
        return "Goodbye!"
    if answer.kind == "empty":
        return "Please type a question about the article."
    if answer.kind == "meta" and answer.meta is not None:
        found = answer.meta
        article = knowledge.articles[found.article_id]
        said = _style(printable(meta.sentence(found.field, found.value)), "quote", color)
        return f"{said} [1]\n\n" + _style(f"[1] {article.citation()}, {found.label}", "cite", color)
    if answer.kind == "abstain":
        lines = [_style(NOT_IN_ARTICLE, "warn", color)]
        if answer.suggestion_ids:
            lines.append("Did you mean one of these? Type its number to read it." if pickable else "Did you mean:")
            for number, (fact_id, text) in enumerate(zip(answer.suggestion_ids, answer.suggestions, strict=True), 1):
                fact = knowledge.fact(fact_id)
                lines.append(f"  {number}. {printable(fact.text if fact else text)}")
        if verbose:
            lines.append(_style(f"confidence {answer.confidence:.2f}", "dim", color))
        return "\n".join(lines)
    lines = []
    cited: dict[str, list[tuple[int, Fact]]] = {}
    for number, item in enumerate(answer.facts, start=1):
        quote = clip(item.fact.text, QUOTE_CHARS)
        lines.append(f"{_style(chr(0x201C) + quote + chr(0x201D), 'quote', color)} [{number}]")
        cited.setdefault(item.fact.article_id, []).append((number, item.fact))
    lines.append("")
    # One source line per article: its citation, then where in it each quote stands.
    for article_id, quotes in cited.items():
        numbers = "".join(f"[{number}]" for number, _ in quotes)
        where = ", ".join(_where(fact) for _, fact in quotes)
        line = f"{numbers} {knowledge.articles[article_id].citation()}, {where}"
        if verbose:
            line += " (" + ", ".join(fact.id for _, fact in quotes) + ")"
        lines.append(_style(line, "cite", color))
    if verbose:
        lines.append(_style(f"confidence {answer.confidence:.2f}", "dim", color))
    return "\n".join(lines)
