"""Question analysis: a question's text in, a :class:`Query` of weighted terms out.

The question is normalized and cut to its content terms (lemmas of the words that are
not function words). Alias phrases from the knowledge folder become concepts; a word
the knowledge has never seen, and that is not a common English word, is corrected
against its vocabulary with rapidfuzz (typos) or matched by a shared stem (``crypto`` /
``cryptocurrency``). Each term weighs by its rarity in general English. The query also
records the kind of answer asked for (a time for "when", a number for "how many"), its
numbers, and which words a negation governs. A follow-up in a conversation is analysed
with the words it carries over from the turn before.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.engine import lexicon
from bot.engine import text as textmod
from bot.engine.index import MEASURE, NUMBER, NUMBER_WORDS, PERSON, PLACE, STATEMENT, TIME, FactIndex

# Match strength of the ways a question term can reach a fact term (aliases: bot.engine.index).
_EXACT = 1.0
_TYPO = 0.85
_STEM = 0.75
# rapidfuzz cutoff for a typo correction, and the shortest word corrected: shorter
# words have too many neighbours to correct safely.
_TYPO_CUTOFF = 80.0
_TYPO_MIN_LEN = 4
# Words at least this common in general English are taken as meant, not as typos.
_REAL_WORD_ZIPF = 3.0
# Typo look-ups remembered (the vocabulary is fixed for an analyser's life).
_TYPO_CACHE = 50_000
_STEM_MIN_LEN = 5
# Most longer words a stem may reach ("state" -> "statement", "statesman", ...).
_STEM_LIMIT = 50
# How many words after "not", "never" ... a negation governs.
_NEGATION_REACH = 4
# Most words of a question looked at: bounds the work per question (typo look-ups
# above all), whatever the input; questions are rarely longer than 40 words.
MAX_TOKENS = 60
# Words rarer than this in general English are names ("Ishiba", "Cho"), not the ask.
_NAME_ZIPF = 3.5
# Share of its weight that the noun after "which"/"what" ("which country") keeps, for
# ranking and coverage: it names the kind of answer, which the answering fact need not
# repeat ("In which country did they first meet?" is answered by "... in Canada").
_ANSWER_HEAD_RANK = 0.2

# Question types: the kind of thing the answer must hold.
_QUESTION_TYPES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("how", "many"), NUMBER),
    (("how", "much"), NUMBER),
    (("how", "old"), NUMBER),
    (("how", "long"), MEASURE),
    (("what", "year"), TIME),
    (("which", "year"), TIME),
    (("what", "date"), TIME),
    (("what", "time"), TIME),
    (("what", "month"), TIME),
    (("what", "day"), TIME),
    (("what", "decade"), TIME),
    (("what", "century"), TIME),
    (("when",), TIME),
    (("who",), PERSON),
    (("whom",), PERSON),
    (("whose",), PERSON),
    (("where",), PLACE),
)
# "What did X say ...", "How did X react ...": the answer is something X said.
SPEECH_ASKS = frozenset("say said says tell told announce announced comment react respond claim".split())

# The patterns by their first word, with their order in _QUESTION_TYPES (earlier wins).
_TYPES_BY_FIRST: dict[str, list[tuple[int, tuple[str, ...], str]]] = defaultdict(list)
for _order, (_pattern, _qtype) in enumerate(_QUESTION_TYPES):
    _TYPES_BY_FIRST[_pattern[0]].append((_order, _pattern, _qtype))


@dataclass(slots=True)
class Term:
    """One question term and the index terms it can match, with their strengths."""

    surface: str
    weight: float
    options: dict[str, float] = field(default_factory=dict)
    known: bool = False  # whether any option occurs in the knowledge at all
    corrected: bool = False  # reached the knowledge only through a typo or stem match
    rank_share: float = 1.0  # share of the weight that counts for ranking
    name: bool = False  # a name or other rare word: it finds the facts, it is not the ask
    proper: bool = False  # written with a capital inside the question ("Hollywood")


@dataclass(slots=True)
class Query:
    """A question as the ranker and the confidence model see it."""

    question: str  # as the user wrote it
    tokens: list[textmod.Token]  # its tokens, then those of the words carried over, if any
    terms: list[Term]
    bigrams: set[str]
    qtype: str | None
    numbers: set[str]
    words: frozenset[str]
    norm: str
    negated: bool
    scope: tuple[frozenset[str], frozenset[str]]  # (every content term, those a negation governs)
    forms: frozenset[str]  # the words and their lemmas
    carried: tuple[str, ...] = ()  # words a follow-up carries over from the turn before
    leans_on: str = ""  # the earlier question a follow-up leans on, as its user wrote it
    resolved: str = ""  # the follow-up with its pronoun replaced by the name it stands for


def negation_scope(tokens: list[textmod.Token]) -> tuple[frozenset[str], frozenset[str]]:
    """The content terms of ``tokens``, and those within a few words after a negation."""
    terms, negated = set(), set()
    reach = 0
    for token in tokens:
        if token.word in textmod.NEGATIONS:
            reach = _NEGATION_REACH
            continue
        if token.content:
            terms.add(token.term)
            if reach:
                negated.add(token.term)
        reach = max(0, reach - 1)
    return frozenset(terms), frozenset(negated)


def question_type(words: list[str]) -> str | None:
    """The kind of thing a question asks for, from its first words (or, for what someone
    said, from a word asking for it anywhere)."""
    head = words[:6]
    best: tuple[int, str] | None = None
    for index, word in enumerate(head):
        for order, pattern, qtype in _TYPES_BY_FIRST.get(word, ()):
            if tuple(head[index : index + len(pattern)]) == pattern and (best is None or order < best[0]):
                best = (order, qtype)
    if best is None and words[:1] in (["what"], ["how"]) and not SPEECH_ASKS.isdisjoint(words):
        return STATEMENT
    return best[1] if best else None


class Analyser:
    """Turns questions into queries against one :class:`FactIndex`."""

    def __init__(self, index: FactIndex) -> None:
        self.index = index
        self._typos: dict[str, str | None] = {}  # typo look-ups already made

    def analyse(self, question: str, tokens: list[textmod.Token] | None = None, carried: Sequence[str] = ()) -> Query:
        """The query for ``question`` (whose ``tokens`` the caller may have already), with
        ``carried`` words from an earlier turn added to what it asks about."""
        tokens = textmod.tokens(question) if tokens is None else tokens
        if carried:
            tokens = tokens + textmod.tokens(" ".join(carried))
        tokens = tokens[:MAX_TOKENS]
        words = [token.word for token in tokens]
        content = [token for token in tokens if token.content]
        sequence = [token for token in tokens if token.term not in textmod.FILLERS]
        phrases = self.index.phrases
        terms: list[Term] = []
        position = 0
        while position < len(sequence):
            length, concepts = phrases.at([token.term for token in sequence], position)
            span = sequence[position : position + length]
            position += length
            if length > 1:
                weight = max(lexicon.weight(t.word) for t in span if t.content) if any(t.content for t in span) else 1.0
                item = Term(surface=" ".join(t.word for t in span), weight=weight)
            elif span[0].content:
                item = self._expand(span[0].word, span[0].term)
            else:
                continue
            for concept, strength in concepts:
                item.options[concept] = max(item.options.get(concept, 0.0), strength)
            terms.append(item)
        # "In which country ...", "What year ...": the noun after which/what names the kind
        # of answer, which the answering fact need not repeat.
        for position, word in enumerate(words[:-1]):
            if word in ("which", "what") and position < 3:
                head = words[position + 1]
                for item in terms:
                    if item.surface == head:
                        item.rank_share = _ANSWER_HEAD_RANK
                break
        # Only the user's own capitals count: carried words were not written by them.
        capitalized = {word.casefold() for word in textmod.capitalized(question)}
        postings = self.index.postings
        for item in terms:
            item.known = any(option in postings for option in item.options)
            # Rare words are taken for names, unless inflected: names do not take endings
            # ("resigning" is not a name, "Ishiba" is).
            item.name = any(
                lexicon.zipf(word) < _NAME_ZIPF and lexicon.lemma(word) == word for word in item.surface.split()
            )
            item.proper = any(word in capitalized for word in item.surface.split())
        lemmas = [token.term for token in content]
        return Query(
            question=question,
            tokens=tokens,
            terms=terms,
            bigrams={f"{a} {b}" for a, b in itertools.pairwise(lemmas)},
            qtype=question_type(words),
            numbers={word for word in words if word.isdigit() or word in NUMBER_WORDS},
            words=frozenset(words),
            norm=" ".join(lemmas),
            negated=bool(textmod.NEGATIONS.intersection(words)),
            scope=negation_scope(tokens),
            forms=frozenset(words) | frozenset(lemmas),
            carried=tuple(carried),
        )

    def _expand(self, word: str, term: str) -> Term:
        item = Term(surface=word, weight=lexicon.weight(word))
        if term in self.index.postings:
            item.options[term] = _EXACT
        elif len(term) >= _TYPO_MIN_LEN and not term.isdigit():
            item.corrected = True
            # A common word is not a misspelling: "Hollywood" is not "Holyrood".
            best = self._typo(term) if lexicon.zipf(word) < _REAL_WORD_ZIPF else None
            if best is not None:
                item.options[best] = _TYPO
            elif len(term) >= _STEM_MIN_LEN:
                for candidate in self._stem_matches(term):
                    item.options.setdefault(candidate, _STEM)
        return item

    def _typo(self, term: str) -> str | None:
        """The knowledge's word closest to ``term`` (rapidfuzz ratio >= the cutoff), if any."""
        if term in self._typos:
            return self._typos[term]
        if len(self._typos) >= _TYPO_CACHE:
            self._typos.clear()
        self._typos[term] = found = self._closest(term)
        return found

    def _closest(self, term: str) -> str | None:
        size = len(term)
        # ratio = 2 * matches / (len(a) + len(b)) >= 0.8 bounds the other word's length.
        low, high = math.ceil(size * 2 / 3), math.floor(size * 3 / 2)
        nearby = [word for length in range(low, high + 1) for word in self.index.by_length.get(length, ())]
        best = process.extractOne(term, nearby, scorer=fuzz.ratio, score_cutoff=_TYPO_CUTOFF)
        return best[0] if best is not None else None

    def _stem_matches(self, term: str) -> list[str]:
        """Words sharing ``term``'s stem: longer words that start with it, and its own prefixes."""
        vocabulary = self.index.vocabulary
        stem = term[: max(_STEM_MIN_LEN, int(len(term) * 0.75))]
        start = bisect.bisect_left(vocabulary, stem)
        found = []
        for word in itertools.islice(vocabulary, start, start + _STEM_LIMIT):
            if not word.startswith(stem):
                break
            found.append(word)
        found += [term[:end] for end in range(_STEM_MIN_LEN, len(term)) if term[:end] in self.index.postings]
        return found
