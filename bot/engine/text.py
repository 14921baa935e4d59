"""Text normalization and tokenization for matching.

The normalized form exists only to compare a question with facts; quotes always come
from the original text. Normalizing folds Unicode compatibility forms (NFKC), case,
typographic quotes and dashes, drops invisible characters and possessive endings, and
joins dotted acronyms ("U.S." -> "US"). Terms are the lemmas of the content words.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple

from bot.engine import lexicon

_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
    }
)
# Zero-width, bidirectional and other format characters carry no meaning for matching.
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Terminal escape sequences with their parameters: CSI ("\x1b[2J"), OSC ("\x1b]2;title\x07"),
# DCS/SOS/PM/APC strings, other two-character escapes, and the C1 controls.
_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|\x9d[^\x07\x9c]*(?:\x07|\x9c)?"
    r"|[\x80-\x9f]"
)
# Chat markup that names no content: user, role and channel mentions, custom emoji.
_CHAT_MARKUP = re.compile(r"<[@#][!&]?\d+>|<a?:\w+:\d+>|@everyone\b|@here\b")
_POSSESSIVE = re.compile(r"(?<=\w)'s?\b")
_ACRONYM = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_WORD = re.compile(r"[^\W_]+")
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")

# Function words and question scaffolding: they say nothing about which fact is meant.
STOPWORDS = frozenset(
    """
    a an the and or but nor so yet if then than that this these those there here
    of to in on at by for with from into onto over under about above below between
    through during before after since until upon within without against among
    across along around behind beyond near off out up down via per as
    i me my mine we us our ours you your yours he him his she her hers it its
    they them their theirs one ones someone something anyone anything
    who whom whose what which when where why how whats whos wheres hows
    is am are was were be been being do does did done doing have has had having
    will would shall should can could may might must ought
    not no yes also just only very too quite really ever still even else
    all any both each every some such own same other another more most much many
    tell know please explain mean means describe give show let happen happened happens happening
    discuss discussed discusses discussing mention mentioned mentions mentioning
    about regarding concerning kind sort thing things way something
    s t d ll m re ve
    dont doesnt didnt isnt arent wasnt werent cant cannot wont wouldnt shouldnt couldnt
    hasnt havent hadnt
    """.split()
)
# Words that turn a statement around; compared between a question and a fact.
NEGATIONS = frozenset(
    """
    not no non never nor neither none nothing nobody nowhere without cannot cant dont doesnt
    didnt isnt arent wasnt werent wont wouldnt shouldnt couldnt hasnt havent hadnt
    """.split()
)
# Words skipped when matching alias phrases, so "start his term" is "start term".
FILLERS = frozenset("a an the his her their its my our your of".split())
# Chat spellings of function words, read as the words they stand for ("wen" is "when").
_CASUAL = {
    "wat": "what", "wut": "what", "wen": "when", "wher": "where", "whr": "where", "y": "why",
    "u": "you", "ur": "your", "r": "are", "hav": "have", "abt": "about", "bc": "because",
    "cuz": "because", "b4": "before", "pls": "please", "plz": "please", "gonna": "going",
    "wanna": "want", "wud": "would", "shud": "should", "cud": "could", "tho": "though",
    "ppl": "people", "till": "until", "til": "until", "coz": "because", "cos": "because",
    "thru": "through", "tmrw": "tomorrow", "yday": "yesterday", "govt": "government", "bn": "billion",
    "mln": "million", "wks": "weeks", "yrs": "years", "msg": "message",
}  # fmt: skip
# Pronouns and demonstratives: words that point back at something said before.
REFERRING = frozenset("he him his she her hers it its they them their theirs this these those".split())
# A word written with a capital after the text's first word, and not opening a sentence:
# a name, to the writer ("Who moved to Hollywood?").
_CAPITALIZED = re.compile(r"(?<!^)(?<![.!?:]\s)\b[A-Z][\w'-]*")
# Words that stay meaningful when written in capitals ("US", "IT", "WHO").
_KEEP_UPPER = re.compile(r"^[A-Z]{2,5}$")


@functools.lru_cache(maxsize=256)  # a fact is folded for its norm, then for its tokens
def fold(text: str) -> str:
    """Fold compatibility forms, invisible characters, quotes, dashes, acronyms, possessives."""
    text = _ESCAPE.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _CHAT_MARKUP.sub(" ", text)
    text = _CONTROL.sub(" ", text).translate(_FOLD)
    text = _ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text)
    return _POSSESSIVE.sub("", text)


def normalize(text: str) -> str:
    """The comparison form of ``text``: folded, lower-case, single-spaced."""
    return " ".join(fold(text).casefold().split())


class Token(NamedTuple):
    word: str  # normalized surface form
    term: str  # lemma used for matching
    content: bool  # False for stopwords


@functools.lru_cache(maxsize=500_000)
def _token(raw: str, shouting: bool) -> Token:
    word = raw.casefold()
    word = _CASUAL.get(word, word)
    if not shouting and _KEEP_UPPER.match(raw) is not None:
        return Token(word, word, True)
    if word in STOPWORDS:
        return Token(word, word, False)
    ordinal = _ORDINAL.match(word)
    if ordinal:  # "60th" is the number 60 for matching
        return Token(word, ordinal.group(1), True)
    term = lexicon.lemma(word)
    return Token(word, term, word not in STOPWORDS and term not in STOPWORDS)


def tokens(text: str) -> list[Token]:
    """Tokens of ``text`` in order, with their lemmas and whether they carry content."""
    text = fold(text)
    shouting = text.upper() == text
    return [_token(raw, shouting) for raw in _WORD.findall(text)]


def phrase_terms(items: list[Token]) -> list[str]:
    """The lemmas that alias phrases are matched against: every word but fillers."""
    return [token.term for token in items if token.term not in FILLERS]


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: escape sequences (parameters included) taken
    out, other control characters but tabs and newlines read as spaces."""
    return _CONTROL.sub(" ", _ESCAPE.sub("", text))


def capitalized(text: str) -> list[str]:
    """The words of ``text`` that its writer capitalized as names, in order, repeats kept."""
    return _CAPITALIZED.findall(fold(text).strip())


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, marked with "…"."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return text[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "\u2026"
