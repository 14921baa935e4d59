"""The reading stage: an article's text as people paste or scrape it, sorted into its parts.

Each line is classed by its shape and place, never by exact phrases:

- ``headline``: the first line, short, not ending like a sentence;
- ``byline`` ("By Ann Keller") and ``date`` (a short line that is a date) near the top;
- ``caption`` (a line or two ending in a credit in brackets, "... (Marlow Gazette)") and
  ``credit`` (a short line naming a picture's source, "Image: Getty");
- ``boilerplate``: short lines that are not sentences and look like links, buttons,
  counters ("Image 3 of 12") or site furniture (share, follow, advert, related stories),
  and short non-sentences at the edges of the text;
- ``summary``: ``@highlight`` lines of story files and the line after each;
- ``footer``: what follows a rule (``___``, ``---``) in the last part of the text;
- ``body``: the rest, grouped into paragraphs as the text has them: blank lines, or
  single newlines between paragraph-length lines, with hard-wrapped lines joined.

Spans are character offsets into the text read, so quotes stay exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "headline", "byline", "date", "caption", "credit", "copyright", "boilerplate", "summary", "footer", "body"
]

# What ends a sentence, closing quotes and brackets included, in English and in CJK text.
_SENTENCE_END = re.compile(r"[.!?\u3002\uff01\uff1f][\"'\u201d\u2019)\]\u300d\u300f\uff09]*$")
_WORD = re.compile(r"[^\W_]+")
_RULE = re.compile(r"^[ \t]*(?:[_\-*=~\u2014\u2013][ \t]*){3,}$")
_BYLINE = re.compile(r"^(?:by|written by|reporting by|words by)\s+\S", re.IGNORECASE)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}\s+{_MONTH}\s+\d{{4}}|{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})\b",
    re.IGNORECASE,
)
# A credit in brackets at the end of a caption: a name of at most six words.
CREDIT = re.compile(r"\(\s*[A-Z][\w.&'/ -]{0,60}\)\s*$")
# A caption that says it is one: "Image caption, Rescue teams ...", "Caption: ...".
CAPTION_LABEL = re.compile(
    r"^(?:(?:image|photo|picture|media|video)\s+caption|caption)\s*[,:\u2013\u2014-]\s*", re.IGNORECASE
)
_PICTURE_SOURCE = re.compile(r"^(?:image|photo|picture|photograph|video|graphic|illustration)s?\b", re.IGNORECASE)
# Shapes of site furniture: links, handles, hashtags, counters ("3 of 12", "3/12").
_LINK_LIKE = re.compile(r"https?://|www\.|\.(?:com|org|net|co\.uk)\b|(?:^|\s)[@#]\w|\S+@\S+\.\w")
_COUNTER = re.compile(r"\b\d+\s*(?:of|/)\s*\d+\b")
# Words that site furniture is made of; they count only on short lines that are not sentences.
_FURNITURE = frozenset(
    "share shares shared tweet facebook twitter whatsapp linkedin reddit pinterest instagram youtube email "
    "print copy link comments comment advertisement advert ad ads sponsored promoted related recommended "
    "more trending popular subscribe subscription newsletter follow sign login log register cookies "
    "gallery slideshow next previous prev back close skip menu home top read watch listen "
    "copyright rights reserved caption playback unsupported javascript browser supported".split()
)
_HIGHLIGHT = "@highlight"
# A site's copyright notice: "© 2025 Coastal Gazette. All rights reserved.", "Copyright
# 2024 Reuters". A sentence about copyright law does not start with the sign or a year.
_COPYRIGHT = re.compile(r"^(?:\u00a9|\(c\)|copyright\s*(?:\u00a9|\(c\)|\d{4}))|\ball rights reserved\b", re.IGNORECASE)
_COPYRIGHT_WORDS = 15
_COPYRIGHT_LEAD = re.compile(
    r"^\s*(?:copyright\b)?\s*(?:\u00a9|\(c\))?\s*(?:\d{4}(?:\s*[-\u2013]\s*\d{4})?)?\s*", re.IGNORECASE
)
# Labels before the date in a date line: "Published 14 March 2025 | Updated ...".
_DATE_LABEL = re.compile(
    r"^(?:(?:first|last)\s+)?(?:published|posted|updated|modified|date|dated)\b(?:\s+on\b)?\s*:?\s*", re.IGNORECASE
)
_DATE_PARTS = re.compile(r"\s+[|\u00b7\u2022]\s+|\s{3,}")
# A wire dateline opening the body: "TOKYO (Kyodo) —", "SEOUL, South Korea (Reuters) --".
DATELINE = re.compile(
    r"^(?P<dateline>[A-Z][A-Z.'\- ]{1,40}(?:,\s*[A-Z][\w. ]{1,40})?(?:\s*\([^()\n]{1,40}\))?)"
    r"\s*(?:\u2014|\u2013|--?)\s+"
)
# What sets glued parts of a top line apart: three spaces or more, or a tab.
_GLUE = re.compile(r"[ \t]*(?: {3}|\t)[ \t]*")
# A time said relative to now ("2 hours ago"): when a page was scraped, not a date.
_AGO = re.compile(r"^(?:updated\s+)?(?:an?|\d+)\s+(?:seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?)\s+ago$", re.I)
# Sentences that are the site speaking to its reader, not the story: a call to action
# ("Sign up for our newsletter.", "Click here to follow us on Facebook."), a staff
# credit ("Additional reporting by Tom Greer."), a note on a correction.
_CALL = frozenset("sign click tap follow subscribe download read watch listen join register visit".split())
_QUOTE_MARK = re.compile("[\"\u201c\u201d\u2018\u2019\u00ab\u00bb]|(?:^|\\s)'")
_FIRST_WORD = re.compile(r"([^\W\d_]+)\s")
_ADDRESSED = frozenset("our us here newsletter newsletters app podcast".split())
# Where a call to action sends the reader: "Follow Helen Marsh on Twitter: ...".
_SOCIAL = frozenset("twitter facebook instagram tiktok linkedin youtube threads bluesky mastodon whatsapp".split())
# A promotion in square brackets, a line of its own: "[ See amazing photos of ... ]".
_BRACKETED = re.compile(r"^\[[^\[\]]+\]$")
# An advert marker glued to a sentence by scraping: "... next summer. ADVERTISEMENT" or
# "ADVERTISEMENT" on the line before one; written in capitals, or alone on its line.
AD_MARK_START = re.compile(
    r"(?:ADVERTISEMENT|ADVERTISING|ADVERT|SPONSORED(?: CONTENT)?)\b[\s:]*|"
    r"(?:Advertisement|Advert|Sponsored content)[ \t]*\n\s*"
)
# The gap before a trailing marker is bounded, so a run of spaces is read in linear time.
AD_MARK_END = re.compile(r"\s{1,20}(?:ADVERTISEMENT|ADVERTISING|ADVERT|SPONSORED(?: CONTENT)?)$")
_CALL_WORDS = 20
_STAFF_CREDIT = re.compile(
    r"^(?:additional reporting|reporting|editing|writing|research|compiled|produced)\s+by\b", re.IGNORECASE
)
_AMENDED = re.compile(
    r"^(?:correction\b|this (?:article|story|piece) (?:was|has been) (?:amended|updated|corrected|changed)\b)",
    re.IGNORECASE,
)
# Lines near the top that may be a headline, byline or date, and the longest headline.
_TOP_LINES = 6
_HEADLINE_WORDS = 20
_HEADLINE_FROM = 4
_SHORT_WORDS = 10
# A footer starts at a rule only in the last part of the text.
_FOOTER_FROM = 0.5


@dataclass(frozen=True, slots=True)
class Block:
    kind: Kind
    start: int
    end: int


def _lines(text: str) -> list[tuple[int, int, bool]]:
    """Non-blank lines as (start, end, follows a blank line), whitespace trimmed. Near the
    top, a line whose parts are set apart by runs of spaces or tabs (a headline, a time
    and a byline glued together by scraping) counts as one line a part."""
    found: list[tuple[int, int, bool]] = []
    blank = False
    position = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            start = position + len(line) - len(line.lstrip())
            if len(found) < _TOP_LINES and _GLUE.search(stripped):
                for part in filter(None, _GLUE.split(stripped)):
                    offset = text.index(part, start)
                    found.append((offset, offset + len(part), blank))
                    start, blank = offset + len(part), False
                position += len(line) + 1
                continue
            found.append((start, start + len(stripped), blank))
            blank = False
        else:
            blank = True
        position += len(line) + 1
    return found


def is_sentence(line: str) -> bool:
    """Whether a line ends as a sentence does (closing quotes and brackets allowed)."""
    return _SENTENCE_END.search(line) is not None


def _count_words(line: str, enough: int = 60) -> int:
    """The words of a line, counted up to about ``enough``: a long line of prose is not
    looked at word by word (classing it needs only to know it is long)."""
    if len(line) > enough * 12:
        return enough + 1
    return len(_WORD.findall(line))


def _furniture(line: str) -> bool:
    """A short line that is not a sentence and has the shape of site furniture."""
    if len(line) > _SHORT_WORDS * 25:
        return False
    words = _WORD.findall(line.casefold())
    if not words or len(words) > _SHORT_WORDS or is_sentence(line):
        return False
    return bool(_LINK_LIKE.search(line) or _COUNTER.search(line) or not _FURNITURE.isdisjoint(words))


def _addresses_reader(line: str, count: int) -> bool:
    """A short sentence the site says to its reader (a call to action, a correction note)."""
    if count > _CALL_WORDS or not is_sentence(line):
        return False
    if _AMENDED.match(line):
        return True
    if _QUOTE_MARK.search(line):
        return False  # someone quoted ("Follow our lead," she said) is the story
    first = _FIRST_WORD.match(line)  # a word of its own: "Follow-up talks ..." is not a call
    if first is None or first[1].casefold() not in _CALL:
        return False
    words = _WORD.findall(line.casefold())
    return not _ADDRESSED.isdisjoint(words) or not _SOCIAL.isdisjoint(words) or bool(_LINK_LIKE.search(line))


def furniture_words(line: str) -> bool:
    """Whether a line holds words that site furniture is made of ("share", "follow" ...)."""
    return not _FURNITURE.isdisjoint(_WORD.findall(line.casefold()))


def _credit_line(line: str) -> bool:
    if len(line) > 200 or is_sentence(line):
        return False
    return len(_WORD.findall(line)) <= 8 and (_PICTURE_SOURCE.match(line) is not None or "\u00a9" in line)


def publication_date(line: str) -> str:
    """The date in a date line, without its label or what follows it: "Published 14
    March 2025 | Updated 15 March 2025" -> "14 March 2025"; a line with no date as it is."""
    for part in _DATE_PARTS.split(line.strip()):
        if _DATE.search(part):
            return " ".join(_DATE_LABEL.sub("", part.strip()).split())
    return " ".join(line.split())


def copyright_holder(line: str) -> str:
    """Who a copyright notice names: "© 2025 Coastal Gazette. All rights reserved." ->
    "Coastal Gazette"; "" when it names no one."""
    holder = re.sub(r"\ball rights reserved\b.*$", "", line, flags=re.IGNORECASE)
    holder = _COPYRIGHT_LEAD.sub("", holder)
    holder = holder.strip(" .,;:-\u2013\u2014|")
    return holder if 0 < len(holder.split()) <= 6 and not holder[0].isdigit() else ""


def read_blocks(text: str) -> list[Block]:
    """The parts of ``text``: set-aside lines one by one, and body paragraphs."""
    lines = _lines(text)
    if not lines:
        return []
    kinds: list[Kind] = ["body"] * len(lines)
    words = [_count_words(text[start:end]) for start, end, _ in lines]
    # Footer: from the last rule in the last part of the text.
    for number in range(len(lines) - 1, -1, -1):
        start, end, _ = lines[number]
        if _RULE.match(text[start:end]) and start >= len(text) * _FOOTER_FROM:
            kinds[number:] = ["footer"] * (len(lines) - number)
            break
    for number, (start, end, _) in enumerate(lines):
        line = text[start:end]
        if kinds[number] != "body":
            continue
        if line.casefold().startswith(_HIGHLIGHT):
            kinds[number] = "summary"
            if number + 1 < len(lines) and kinds[number + 1] == "body":
                kinds[number + 1] = "summary"
        elif _RULE.match(line):
            kinds[number] = "boilerplate"
        elif (label := CAPTION_LABEL.match(line)) and label.end() < len(line):
            kinds[number] = "caption"
        elif _COPYRIGHT.search(line) and words[number] <= _COPYRIGHT_WORDS:
            kinds[number] = "copyright"
        elif _credit_line(line) or (_STAFF_CREDIT.match(line) and words[number] <= _SHORT_WORDS):
            kinds[number] = "credit"
        elif (
            _furniture(line)
            or _addresses_reader(line, words[number])
            or _AGO.match(line)
            or (_BRACKETED.match(line) and words[number] <= _CALL_WORDS)
        ):
            kinds[number] = "boilerplate"
    # The top: a headline first, then bylines and dates.
    content = [number for number, kind in enumerate(kinds) if kind == "body"]
    blank_separated = any(blank for _, _, blank in lines[1:])
    if len(content) > 1:
        first, second = content[0], content[1]
        line = text[lines[first][0] : lines[first][1]]
        # In text with blank lines between paragraphs, a first line that runs on into a
        # long line is the start of a hard-wrapped paragraph, not a headline.
        runs_on = blank_separated and not lines[second][2] and words[second] > _SHORT_WORDS
        if (
            words[first] <= _HEADLINE_WORDS
            and not is_sentence(line)
            and not CREDIT.search(line)
            and not DATELINE.match(line)
            and not _BYLINE.match(line)
            and not runs_on
        ):
            kinds[first] = "headline"
    for number in content[:_TOP_LINES]:
        start, end, _ = lines[number]
        line = text[start:end]
        if kinds[number] != "body" or words[number] > _SHORT_WORDS or is_sentence(line):
            continue
        if _BYLINE.match(line):
            kinds[number] = "byline"
        elif _DATE.search(line):
            kinds[number] = "date"
    # A headline that holds furniture words ("Council to close home for the elderly") was
    # set aside as furniture; the first line is still the headline when a byline or a
    # date comes next, as under every headline.
    if "headline" not in kinds and len(lines) > 1 and kinds[0] == "boilerplate":
        line = text[lines[0][0] : lines[0][1]]
        following = next((kind for kind in kinds[1:] if kind != "boilerplate"), None)
        if (
            _HEADLINE_FROM <= words[0] <= _HEADLINE_WORDS
            and not is_sentence(line)
            and not _LINK_LIKE.search(line)
            and not _COUNTER.search(line)
            and following in ("byline", "date")
        ):
            kinds[0] = "headline"
    # Captions: a line or two ending in a credit in brackets, before the body begins or
    # standing alone between paragraphs.
    for number in [n for n, kind in enumerate(kinds) if kind == "body"]:
        start, end, _ = lines[number]
        line = text[start:end]
        if CREDIT.search(line) and words[number] <= 60 and _is_caption_place(lines, kinds, number):
            kinds[number] = "caption"
    # Short non-sentences before the first line of prose or after the last are not the article.
    body = [
        number
        for number, kind in enumerate(kinds)
        if kind == "body" and (words[number] > _SHORT_WORDS or is_sentence(text[lines[number][0] : lines[number][1]]))
    ]
    if body:
        for number in [*range(body[0]), *range(body[-1] + 1, len(lines))]:
            line = text[lines[number][0] : lines[number][1]]
            if kinds[number] == "body" and words[number] <= _SHORT_WORDS and not is_sentence(line):
                kinds[number] = "boilerplate"
    return _group(text, lines, kinds)


def _is_caption_place(lines: list[tuple[int, int, bool]], kinds: list[Kind], number: int) -> bool:
    """A caption stands in a paragraph of its own: blank lines around it, or at the top."""
    alone_before = number == 0 or lines[number][2] or kinds[number - 1] != "body"
    alone_after = number + 1 >= len(lines) or lines[number + 1][2] or kinds[number + 1] != "body"
    earlier_body = any(kind == "body" for kind in kinds[:number])
    return alone_before and alone_after and (not earlier_body or lines[number][2])


def _group(text: str, lines: list[tuple[int, int, bool]], kinds: list[Kind]) -> list[Block]:
    """Set-aside lines as blocks of their own; body lines joined into paragraphs."""
    blank_separated = any(blank for _, _, blank in lines[1:])
    blocks: list[Block] = []
    for (start, end, blank), kind in zip(lines, kinds, strict=True):
        previous = blocks[-1] if blocks else None
        # A line that goes on from the last: in text with blank lines between paragraphs
        # every such line does (hard wraps); otherwise only one that ends mid-sentence.
        if (
            kind == "body"
            and previous is not None
            and previous.kind == "body"
            and not blank
            and (blank_separated or not is_sentence(text[previous.start : previous.end]))
        ):
            blocks[-1] = Block("body", previous.start, end)
            continue
        blocks.append(Block(kind, start, end))
    return blocks


def repair(text: str) -> str:
    """``text`` with mojibake ("â€”" for "—") and HTML entities or tags undone, when it
    has any; clean text comes back unchanged."""
    import html

    if _MOJIBAKE.search(text):
        import ftfy

        text = ftfy.fix_encoding(text)
    if _TAG.search(text):
        text = _TAG.sub("", text)
    if _ENTITY.search(text):
        text = html.unescape(text)
    return text


# UTF-8 read as Windows-1252 or Latin-1: a lead byte's letter followed by a continuation's.
_MOJIBAKE = re.compile(
    "[\u00c2\u00c3\u00c5\u00e2]"
    "[\u0080-\u00bf\u2018-\u203a\u20ac\u0152\u0153\u0160\u0161\u017d\u017e\u0178\u02c6\u02dc\u2122]"
)
# Markup left in text: HTML's common tags, and the SGML of news corpora (<DOC>, <TEXT> ...).
_TAG = re.compile(
    r"</?(?:p|br|div|span|b|i|em|strong|a|h[1-6]|li|ul|ol|blockquote|figure|figcaption|img|"
    r"doc|docno|text|headline|dateline|byline)\b[^<>]{0,300}>",
    re.IGNORECASE,
)
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6}|#x[0-9a-fA-F]{2,5});")
