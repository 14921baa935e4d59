"""Site furniture: short lines that recur across articles ("Read more", "Image source,
Getty"), set aside when the articles are assembled into one :class:`Knowledge`."""

from __future__ import annotations

from bot.engine import reading
from bot.engine.knowledge import AliasGroup, Article, Fact, Knowledge, SetAside


def assemble(
    parsed: list[tuple[Article, list[Fact]]],
    aliases: tuple[AliasGroup, ...],
    found: dict[str, list[str]] | None = None,
) -> Knowledge:
    """The knowledge of parsed articles, less the lines that recur across them (see
    :func:`repeated_ids`; ``found`` is their :func:`furniture`, when known)."""
    repeated = repeated_ids(furniture(parsed) if found is None else found)
    articles: dict[str, Article] = {}
    facts: list[Fact] = []
    for article, article_facts in parsed:
        kept = set_aside_repeated(article, article_facts, repeated)
        articles[kept[0].id] = kept[0]
        facts += kept[1]
    return Knowledge(articles=articles, facts=tuple(facts), aliases=aliases)


def set_aside_repeated(article: Article, facts: list[Fact], repeated: set[str]) -> tuple[Article, list[Fact]]:
    """The article with its facts among ``repeated`` set aside (kind "repeated"), and its other facts."""
    dropped = [fact for fact in facts if fact.id in repeated]
    if not dropped:
        return article, facts
    aside = [SetAside(kind=REPEATED, start=fact.start, end=fact.end) for fact in dropped]
    article = article.model_copy(update={"set_aside": (*article.set_aside, *aside)})
    return article, [fact for fact in facts if fact.id not in repeated]


# A short line (at most this many words, no sentence end) found as a paragraph of its
# own in this many articles is site furniture ("Read more", "Image source, Getty").
_REPEATED_WORDS = 8
_REPEATED_IN = 3
# How such a line is marked among an article's set-aside lines.
REPEATED = "repeated"


def furniture(parsed: list[tuple[Article, list[Fact]]]) -> dict[str, list[str]]:
    """Candidate site furniture: each short non-sentence standing alone in its paragraph,
    by its words, with the ids of the facts that hold it."""
    found: dict[str, list[str]] = {}
    for _, article_facts in parsed:
        by_paragraph: dict[int, list[Fact]] = {}
        for fact in article_facts:
            by_paragraph.setdefault(fact.paragraph, []).append(fact)
        for group in by_paragraph.values():
            fact = group[0]
            if len(group) == 1 and fact.kind == "sentence" and not reading.is_sentence(fact.text.rstrip()):
                words = fact.norm.split()
                if 0 < len(words) <= _REPEATED_WORDS:
                    found.setdefault(" ".join(words), []).append(fact.id)
    return found


def repeated_ids(found: dict[str, list[str]]) -> set[str]:
    """Ids of the candidate facts (see :func:`furniture`) whose words recur in several articles."""
    return {fact_id for ids in found.values() if recurs(ids) for fact_id in ids}


def recurs(fact_ids: list[str]) -> bool:
    """Whether a candidate line's facts stand in enough articles to be site furniture."""
    return len({fact_id.rsplit(":", 1)[0] for fact_id in fact_ids}) >= _REPEATED_IN
