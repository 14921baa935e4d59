"""Questions about the article itself ("who wrote this?", "when was it published?"),
answered from its metadata: the byline, date, outlet, headline or dateline.

A question is about the article when, besides function words, it holds only words that
ask for one of these and words that point at the article ("this", "the story"): "Who
wrote Hamlet?" names something else and is an ordinary question.
"""

from __future__ import annotations

import itertools
from typing import Literal

from bot.engine.answer import MetaValue
from bot.engine.knowledge import Article
from bot.engine.parsing import default_title

__all__ = ["LABELS", "SENTENCES", "MetaField", "MetaValue", "asked_field", "sentence", "value"]

MetaField = Literal["author", "published", "outlet", "title", "dateline"]

_ASKS: dict[MetaField, frozenset[str]] = {
    "author": frozenset("wrote write writes written writer writers author authors byline reporter journalist".split()),
    "published": frozenset("published publish publication posted dated date".split()),
    "outlet": frozenset("agency outlet newspaper paper publisher site website reported reports source".split()),
    "title": frozenset("headline title titled called".split()),
    "dateline": frozenset("dateline filed".split()),
}
# Words that point at the article, and the words questions are made of.
_ARTICLE = frozenset("this that it article story piece report item news text".split())
# Nouns for an article that its subject can qualify ("the ferry story").
_NAMING = frozenset("article story piece".split())
_SUBJECT_WORDS = 3
# Which field each asking word asks for; in a question naming its article by subject, the
# first one decides ("Which newspaper published the ferry story?" asks for the outlet).
_ASKED_BY: dict[str, MetaField] = {word: field for field, asks in reversed(_ASKS.items()) for word in asks}
_FRAME = frozenset(
    "who what when where which whose how is was are were did does do the a an of by in on from for "
    "s me tell please".split()
)
LABELS: dict[MetaField, str] = {
    "author": "byline",
    "published": "date of publication",
    "outlet": "outlet",
    "title": "headline",
    "dateline": "dateline",
}


# What each field says, as a sentence a reader expects ("The article was written by ...").
SENTENCES: dict[MetaField, str] = {
    "author": "The article was written by {value}.",
    "published": "It was published on {value}.",
    "outlet": "It was published by {value}.",
    "title": "Its headline is \u201c{value}\u201d.",
    "dateline": "Its dateline is {value}.",
}


def sentence(field: str, value: str) -> str:
    """The answer to a question about the article's ``field``, as a sentence."""
    template = SENTENCES.get(field, "The {label}: {value}")  # type: ignore[call-overload]
    label = LABELS.get(field, field)  # type: ignore[call-overload]
    return str(template).format(value=value.strip().rstrip("."), label=label)


def asked_field(words: list[str]) -> tuple[MetaField, tuple[str, ...]] | None:
    """The metadata a question asks for, from its normalized words, and the words that
    say which article it asks about ("who wrote the ferry story?": "ferry"), or None."""
    found = set(words)
    rest = found - _FRAME - _ARTICLE
    for field, asks in _ASKS.items():
        if rest and rest <= asks | {"news"} and (field == "title" or found & _ARTICLE):
            return field, ()
    # "Who wrote the ferry story?": an article named by its subject, beside a noun for it.
    topic = _subject(words, rest)
    asking = [word for word in words if word in _ASKED_BY]
    if topic and asking and rest <= set(topic) | set(asking) | {"about", "news"}:
        return _ASKED_BY[asking[0]], topic
    # "Where is this from?": a place the article was filed from.
    if {"where", "from"} <= found and found & _ARTICLE and not rest:
        return "dateline", ()
    return None


def _subject(words: list[str], rest: set[str]) -> tuple[str, ...]:
    """The words naming an article by its subject: just before a noun for it ("the
    ferry story") or after it and "about" or "on" ("the article about Barclays")."""
    for place, word in enumerate(words):
        if word not in _NAMING:
            continue
        before = list(itertools.takewhile(lambda w: w in rest and w not in _ASKED_BY, reversed(words[:place])))
        after: list[str] = []
        if place + 1 < len(words) and words[place + 1] in ("about", "on"):
            following = [w for w in words[place + 2 :] if w not in ("the", "a", "an")]
            after = list(itertools.takewhile(lambda w: w in rest and w not in _ASKED_BY, following))
        found = [*reversed(before), *after]
        if 0 < len(found) <= _SUBJECT_WORDS:
            return tuple(found)
    return ()


def value(article: Article, field: MetaField) -> str:
    """What the article says of itself for ``field``; "" when it does not say."""
    if field == "author":
        return article.author
    if field == "published":
        return article.published
    if field == "outlet":
        return article.outlet or _outlet_in(article.dateline) or article.attribution
    if field == "dateline":
        return article.dateline
    return "" if article.title == default_title(article.id) else article.title  # made from the file name


def _outlet_in(dateline: str) -> str:
    """The agency in a dateline: "TOKYO (Kyodo)" -> "Kyodo"."""
    if "(" in dateline and dateline.endswith(")"):
        return dateline[dateline.index("(") + 1 : -1].strip()
    return ""
