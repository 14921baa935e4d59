"""Parsing: one article's text into its :class:`Article` and facts.

The reading stage (``bot.engine.reading``) sorts the text into its parts; the body's
paragraphs are cut into sentences by syntok, an opening photo caption becomes a
``caption`` fact, a dateline such as ``TOKYO (Kyodo) —`` moves to the article's
metadata, and a trailing line that only names a site is attribution, not a fact.
"""

from __future__ import annotations

import re
from typing import Literal

from bot.engine import reading
from bot.engine.knowledge import Article, ArticleMeta, Fact, SetAside

# An outlet or site line is short ("AloJapan.com", "Reuters").
_ATTRIBUTION_CHARS = 60


def _sentences(raw: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside ``raw[start:end]``, found by syntok."""
    from syntok import segmenter

    chunk = raw[start:end]
    starts = [sentence[0].offset for paragraph in segmenter.analyze(chunk) for sentence in paragraph if sentence]
    spans = []
    for index, offset in enumerate(starts):
        stop = starts[index + 1] if index + 1 < len(starts) else len(chunk)
        piece = chunk[offset:stop].rstrip()
        # syntok's token offset points at the word; keep an opening quote or bracket.
        lead = offset
        while lead > 0 and chunk[lead - 1] in "\"'\u201c\u2018([" and (index == 0 or lead - 1 >= starts[index - 1]):
            lead -= 1
        if piece:
            spans.append((start + lead, start + offset + len(piece)))
    return spans


def _is_attribution(line: str) -> bool:
    """A last paragraph that only names a site or outlet ("AloJapan.com")."""
    words = line.split()
    return (
        "\n" not in line and 0 < len(words) <= 5 and len(line) <= _ATTRIBUTION_CHARS and not reading.is_sentence(line)
    )


# "By Jane Doe, Political correspondent": the role after the name is not the author.
_ROLE = re.compile(
    r"\s*(?:,|\||\s-\s|\s\u2013\s|\s\u2014\s)\s*[^,|]*\b(?:reporter|correspondent|editor|writer|journalist|"
    r"staff|contributor|columnist|analyst|producer|desk)s?\b.*$",
    re.IGNORECASE,
)


def _byline_name(byline: str) -> str:
    """Who a byline names: "By Marta Kowalczyk, Transport reporter" -> "Marta Kowalczyk"."""
    name = re.sub(r"^(?:by|written by|reporting by|words by)\s+", "", byline.strip(), flags=re.IGNORECASE)
    return _ROLE.sub("", name).strip() or name.strip()


def default_title(article_id: str) -> str:
    """The title of an article that has none of its own: its id, read as words."""
    return article_id.replace("-", " ").replace("_", " ").strip().capitalize()


def _layout(raw: str) -> str:
    """``raw`` with its line ends read as "\\n" ("\\r\\n" as " \\n", a lone "\\r" as "\\n") and
    a byte-order mark as a space: every change keeps the length, so spans found in the
    result point into ``raw`` unchanged."""
    return raw.replace("\r\n", " \n").replace("\r", "\n").replace("\ufeff", " ")


def parse_article(
    article_id: str, raw: str, meta: ArticleMeta | None = None, path: str = ""
) -> tuple[Article, list[Fact]]:
    """Read one article's text into its :class:`Article` and :class:`Fact` list.

    The reading stage (``bot.engine.reading``) sets aside what is not the body; its
    headline, byline and date become metadata, where ``meta`` still wins. Facts are the
    body's sentences, and a photo caption's words.
    """
    meta = meta or ArticleMeta()
    stored = reading.repair(raw)
    text = _layout(stored)
    blocks = reading.read_blocks(text)
    found: dict[str, str] = {}
    set_aside: list[SetAside] = []
    attribution = ""
    if blocks and blocks[-1].kind in ("boilerplate", "body") and len(blocks) > 1:
        last = text[blocks[-1].start : blocks[-1].end]
        if _is_attribution(last) and not reading.furniture_words(last):
            attribution = last
            blocks = blocks[:-1]
    facts: list[Fact] = []
    dateline = ""
    number = 0
    for block in blocks:
        start, end = block.start, block.end
        chunk = text[start:end]
        if block.kind not in ("body", "caption"):
            set_aside.append(SetAside(kind=block.kind, start=start, end=end))
            found.setdefault(block.kind, chunk)
            continue
        number += 1
        if block.kind == "caption":
            credit = reading.CREDIT.search(chunk)
            stop = start + (credit.start() if credit else len(chunk))
            label = reading.CAPTION_LABEL.match(chunk)
            start += label.end() if label else 0  # "Image caption, ": the caption is what follows
            if text[start:stop].strip():
                facts.append(_fact(article_id, stored, number, 1, "caption", start, len(text[:stop].rstrip())))
            continue
        if not dateline and not any(fact.kind == "sentence" for fact in facts):
            match = reading.DATELINE.match(chunk)
            if match:
                dateline = match.group("dateline").strip()
                start += match.end()
        index = 0
        for s, e in _sentences(text, start, end):
            # An advert marker glued on by scraping is not part of the sentence.
            if (mark := reading.AD_MARK_START.match(text, s, e)) is not None:
                s = mark.end()
            if text[e - 1 : e].isupper() and (mark := reading.AD_MARK_END.search(text, max(s, e - 40), e)) is not None:
                e = mark.start()
            if e > s:
                index += 1
                facts.append(_fact(article_id, stored, number, index, "sentence", s, e))

    headline = " ".join(found.get("headline", "").split())
    title = meta.title or headline or default_title(article_id)
    byline = found.get("byline", "")
    author = meta.author or _byline_name(byline)
    article = Article(
        id=article_id,
        title=title,
        author=author,
        outlet=meta.outlet or reading.copyright_holder(found.get("copyright", "")),
        published=meta.published or reading.publication_date(found.get("date", "")),
        url=meta.url,
        dateline=dateline,
        attribution=attribution,
        path=path,
        text=stored,
        set_aside=tuple(set_aside),
    )
    return article, facts


def _fact(
    article_id: str, raw: str, paragraph: int, sentence: int, kind: Literal["sentence", "caption"], start: int, end: int
) -> Fact:
    return Fact.trusted(article_id, paragraph, sentence, kind, start, end, raw[start:end])
