"""The matcher: a question in, ranked facts, a calibrated confidence and a decision out.

How it decides, in order:

1. The question is normalized and cut to its content terms (lemmas of the words that
   are not function words). Alias phrases from the knowledge folder become concepts; a
   word the knowledge has never seen, and that is not a common English word, is
   corrected against its vocabulary with rapidfuzz (typos) or matched by a shared stem
   (``crypto`` / ``cryptocurrency``).
2. Each term weighs by its rarity in general English, times how few facts hold it;
   names count less for ranking than the rest of the question.
3. Candidate facts come from an inverted index of terms; each is scored by the weighted
   share of the question's terms it holds (partly through the sentence before it, see
   ``bot.index.context_shares``), a bonus for word pairs in the same order, a rapidfuzz
   similarity, and whether it holds the kind of thing asked for (a time for "when", a
   number for "how many", a name for "who").
4. The confidence is a logistic model over the best fact's evidence (``features``):
   coverage, words the knowledge has never heard of, answer type, numbers, negations,
   opposites, replaced words. Two checks come on top: the names found but the ask not
   covered, and "What did X say?" without X next to a word of speech. Below the
   threshold the matcher abstains and offers the nearest facts as suggestions.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from bot import lexicon
from bot import text as textmod
from bot.answer import Answer, ScoredFact
from bot.index import NUMBER, NUMBER_WORDS, PERSON, PLACE, SPEECH_WORDS, STATEMENT, TIME, TYPE_BITS, FactIndex
from bot.knowledge import Fact, Knowledge

if TYPE_CHECKING:
    from bot.settings import Settings

# Match strength of the ways a question term can reach a fact term (aliases: bot.index).
_EXACT = 1.0
_TYPO = 0.85
_STEM = 0.75
# rapidfuzz cutoff for a typo correction, and the shortest word corrected: shorter
# words have too many neighbours to correct safely.
_TYPO_CUTOFF = 80.0
_TYPO_MIN_LEN = 4
# Words at least this common in general English are taken as meant, not as typos.
_REAL_WORD_ZIPF = 3.0
# Typo look-ups remembered (the vocabulary is fixed for a matcher's life).
_TYPO_CACHE = 50_000
_STEM_MIN_LEN = 5
# Most longer words a stem may reach ("state" -> "statement", "statesman", ...).
_STEM_LIMIT = 50
# A word written with a capital after the question's first word: a name, for the
# question's writer ("Who moved to Hollywood?").
_CAPITALIZED = re.compile(r"(?<!^)(?<![.!?:]\s)\b[A-Z][\w'-]*")
# Share of a name's weight in the ranking: names find the facts about someone, and the
# rest of the question picks among them ("What did Alvarez and Brandt *agree* to?").
_NAME_RANK = 0.4
# How many words after "not", "never" ... a negation governs.
_NEGATION_REACH = 4
# How far from "said", "according to" ... the one who spoke is looked for, within its clause.
_SPEAKER_REACH = 4
_CLAUSE = re.compile(r"[,;:.!?()]\s")
# Fact profiles kept (they are cheap to redo; this bounds memory on a large archive).
_PROFILE_CACHE = 20_000
# Ranked facts an answer lists whatever its decision (for evaluation and `ask --json`).
_CANDIDATES = 5
# Candidates that get the fine ranking after the fast first pass.
_FINE_RANKED = 50

# An unknown word this heavy (zipf 5.5 or rarer), the only ask of a question, means abstain.
_UNKNOWN_ASK_WEIGHT = 2.5

# Words rarer than this in general English are names ("Ishiba", "Cho"), not the ask.
_NAME_ZIPF = 3.5

# Questions with this many terms or more count as long (see Matcher.features).
_LONG_QUESTION_TERMS = 5

# Share of its weight that the noun after "which"/"what" ("which country") keeps, for
# ranking and coverage: it names the kind of answer, which the answering fact need not
# repeat ("In which country did they first meet?" is answered by "... in Canada").
_ANSWER_HEAD_RANK = 0.2

# Ranking: share of weighted terms, plus these bonuses.
_BIGRAM_BONUS = 0.08
_FUZZ_BONUS = 0.10
_TYPE_PENALTY = 0.25

# Confidence: a logistic model over the features of ``Matcher.features`` (same order).
# Its coefficients are data, written by ``scripts/calibrate.py --write`` to
# ``confidence.json``; refit after changing a feature.
CONFIDENCE_FILE = Path(__file__).with_name("confidence.json")
FEATURE_NAMES = (
    "bias",
    "coverage",
    "unknown_share",
    "max_missing_unknown",
    "max_missing_known",
    "type_miss",
    "number_miss",
    "inverse_terms",
    "margin",
    "max_matched_weight",
    "pair_share",
    "negation_mismatch",
    "coverage_squared",
    "coverage_per_term",
    "corrected_share",
    "opposite_word",
    "relation_coverage",
    "relation_unknown",
    "unknown_proper",
    "replaced",
    "negation_clash",
    "long",
    "long_coverage",
    "long_unknown_share",
    "long_max_missing_known",
    "long_margin",
)


@functools.cache
def confidence_coefficients() -> tuple[float, ...]:
    data = json.loads(CONFIDENCE_FILE.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURE_NAMES:
        raise RuntimeError(f"{CONFIDENCE_FILE} was fit for other features; run scripts/calibrate.py --write")
    return tuple(float(value) for value in data["coefficients"])


# Confidence needed to answer, chosen from the trade-off table of ``eval --sweep`` (README).
DEFAULT_THRESHOLD = 0.36

# Most words of a question looked at: bounds the work per question (typo look-ups
# above all), whatever the input; questions are rarely longer than 40 words.
_MAX_TOKENS = 60

# Suggestions: the nearest facts' openings, when they share this much of the question.
_SUGGESTION_CHARS = 100
_SUGGESTION_COVERAGE = 0.25
_COMPLETION_CUTOFF = 60.0

# Facts beyond the first are quoted only when they score this close to the best one.
_MULTI_RATIO = 0.85


# Question types: the kind of thing the answer must hold.
_QUESTION_TYPES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("how", "many"), NUMBER),
    (("how", "much"), NUMBER),
    (("how", "old"), NUMBER),
    (("how", "long"), TIME),
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
_SPEECH_ASKS = frozenset("say said says tell told announce announced comment react respond claim".split())

_GREETINGS = frozenset(
    "hi hello hey hiya howdy greetings yo morning evening afternoon thanks thank cheers "
    "bye goodbye ok okay good day night".split()
)
_HELP = frozenset("help commands usage how work start menu".split())


@dataclass(slots=True)
class _Term:
    """One question term and the index terms it can match, with their strengths."""

    surface: str
    weight: float
    options: dict[str, float] = field(default_factory=dict)
    known: bool = False  # whether any option occurs in the knowledge at all
    corrected: bool = False  # reached the knowledge only through a typo or stem match
    rank_share: float = 1.0  # share of the weight that counts for ranking
    name: bool = False  # a name or other rare word: it finds the facts, it is not the ask
    proper: bool = False  # written with a capital inside the question ("Hollywood")


class _FactProfile(NamedTuple):
    forms: frozenset[str]  # the words, punctuation stripped, and their lemmas
    numbers: frozenset[str]
    negated: bool  # holds a negation somewhere
    places: dict[str, int]  # where each lemma first occurs among the content lemmas
    terms: frozenset[str]  # content terms
    negated_terms: frozenset[str]  # those a negation governs
    speakers: frozenset[str]  # terms next to a word of speech ("sources said", "according to Lee")


class Ranked(NamedTuple):
    """One candidate fact: its rank score, the share of the question it covers, its index,
    and how strongly it holds each question term (in the order of the query's terms)."""

    score: float
    coverage: float
    fact_index: int
    strengths: tuple[float, ...]


@dataclass(slots=True)
class _Query:
    terms: list[_Term]
    bigrams: set[str]
    qtype: str | None
    numbers: set[str]
    words: frozenset[str]
    norm: str
    negated: bool
    scope: tuple[frozenset[str], frozenset[str]]  # (every content term, those a negation governs)
    forms: frozenset[str]  # the words and their lemmas


# The patterns by their first word, with their order in _QUESTION_TYPES (earlier wins).
_TYPES_BY_FIRST: dict[str, list[tuple[int, tuple[str, ...], str]]] = defaultdict(list)
for _order, (_pattern, _qtype) in enumerate(_QUESTION_TYPES):
    _TYPES_BY_FIRST[_pattern[0]].append((_order, _pattern, _qtype))


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
    if best is None and words[:1] in (["what"], ["how"]) and not _SPEECH_ASKS.isdisjoint(words):
        return STATEMENT
    return best[1] if best else None


class Matcher:
    """Answers questions from one :class:`Knowledge`."""

    def __init__(
        self,
        knowledge: Knowledge,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        max_facts: int = 3,
        max_suggestions: int = 3,
        coefficients: tuple[float, ...] | None = None,
        max_question_chars: int = 500,
        index: FactIndex | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.threshold = threshold
        self.max_facts = max_facts
        self.max_suggestions = max_suggestions
        self.max_question_chars = max_question_chars
        self._coefficients = coefficients or confidence_coefficients()
        self.index = index if index is not None else FactIndex.build(knowledge)
        self.facts: list[Fact] = self.index.facts
        self.postings = self.index.postings
        self.vocabulary = self.index.vocabulary
        self.fact_match_texts = self.index.match_texts
        self.fact_types = self.index.types
        self._phrases = self.index.phrases
        self._count = max(1, len(self.facts))
        self._typos: dict[str, str | None] = {}  # typo look-ups already made
        self._context = self.index.context if self.index.context.any() else None
        self._profiles: dict[int, _FactProfile] = {}  # confidence inputs already worked out

    # -- question analysis -------------------------------------------------------

    def _idf(self, term: str) -> float:
        count = len(self.postings.get(term, ()))
        return math.log(1.0 + (self._count - count + 0.5) / (count + 0.5))

    def _expand(self, word: str, term: str) -> _Term:
        item = _Term(surface=word, weight=lexicon.weight(word))
        if term in self.postings:
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
        stem = term[: max(_STEM_MIN_LEN, int(len(term) * 0.75))]
        start = bisect.bisect_left(self.vocabulary, stem)
        found = []
        for word in itertools.islice(self.vocabulary, start, start + _STEM_LIMIT):
            if not word.startswith(stem):
                break
            found.append(word)
        found += [term[:end] for end in range(_STEM_MIN_LEN, len(term)) if term[:end] in self.postings]
        return found

    def analyse(self, question: str) -> _Query:
        tokens = textmod.tokens(question)[:_MAX_TOKENS]
        words = [token.word for token in tokens]
        content = [token for token in tokens if token.content]
        sequence = [token for token in tokens if token.term not in textmod.FILLERS]
        terms: list[_Term] = []
        position = 0
        while position < len(sequence):
            length, concepts = self._phrases.at([token.term for token in sequence], position)
            span = sequence[position : position + length]
            position += length
            if length > 1:
                weight = max(lexicon.weight(t.word) for t in span if t.content) if any(t.content for t in span) else 1.0
                item = _Term(surface=" ".join(t.word for t in span), weight=weight)
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
        capitalized = {word.casefold() for word in _CAPITALIZED.findall(textmod.fold(question).strip())}
        for item in terms:
            item.known = any(option in self.postings for option in item.options)
            # Rare words are taken for names, unless inflected: names do not take endings
            # ("resigning" is not a name, "Ishiba" is).
            item.name = any(
                lexicon.zipf(word) < _NAME_ZIPF and lexicon.lemma(word) == word for word in item.surface.split()
            )
            item.proper = any(word in capitalized for word in item.surface.split())
        lemmas = [token.term for token in content]
        return _Query(
            terms=terms,
            bigrams={f"{a} {b}" for a, b in itertools.pairwise(lemmas)},
            qtype=question_type(words),
            numbers={word for word in words if word.isdigit() or word in NUMBER_WORDS},
            words=frozenset(words),
            norm=" ".join(lemmas),
            negated=bool(textmod.NEGATIONS.intersection(words)),
            scope=negation_scope(tokens),
            forms=frozenset(words) | frozenset(lemmas),
        )

    # -- scoring -----------------------------------------------------------------

    def rank(self, query: _Query) -> list[Ranked]:
        """(rank score, coverage, fact index) for the best candidate facts, best first.

        Every fact that holds a question term is scored at once with numpy (the weighted
        share of the question it covers); only the best few then get the finer, slower
        bonuses (word pairs, rapidfuzz similarity).
        """
        if not any(option in self.postings for item in query.terms for option in item.options):
            return []
        # Dense arrays over all facts (a row per question term): cheaper than merging long
        # postings lists.
        hits = np.zeros((len(query.terms), len(self.facts)), dtype=np.float32)
        for row, item in zip(hits, query.terms, strict=True):
            for option, strength in item.options.items():
                found = self.postings.get(option)
                if found is not None:
                    row[found] = np.maximum(row[found], strength)
        if self._context is not None:
            # Facts are in reading order, so "the fact before" is the previous column.
            np.maximum(hits[:, 1:], self._context[1:] * hits[:, :-1], out=hits[:, 1:])
        shares = np.array([item.weight * item.rank_share for item in query.terms], dtype=np.float32)
        idfs = np.array([self._best_idf(item) for item in query.terms], dtype=np.float32)
        covered = shares @ hits
        # Names find the facts about someone; the rest of the question picks among them.
        focus = np.array([_NAME_RANK if item.name else 1.0 for item in query.terms], dtype=np.float32)
        ranked = (shares * idfs * focus) @ hits
        total = float(shares.sum())
        ranked_total = float((shares * idfs * focus).sum())
        candidates = np.flatnonzero(covered)
        coverage = covered[candidates] / (total or 1.0)
        score = ranked[candidates] / (ranked_total or 1.0)
        if query.qtype:
            score -= _TYPE_PENALTY * ((self.fact_types[candidates] & TYPE_BITS[query.qtype]) == 0)
        if len(candidates) > _FINE_RANKED:
            best = np.argpartition(-score, _FINE_RANKED)[:_FINE_RANKED]
        else:
            best = np.arange(len(candidates))
        chosen = candidates[best].tolist()
        similarity = {
            index: value
            for _, value, index in process.extract(
                query.norm,
                {index: self.fact_match_texts[index] for index in chosen},
                scorer=fuzz.token_set_ratio,
                limit=None,
            )
        }
        results = []
        pairs = [f" {pair} " for pair in query.bigrams]
        by_term = hits[:, candidates[best]].T.tolist()
        for index, base, share, strengths in zip(
            chosen, score[best].tolist(), coverage[best].tolist(), by_term, strict=True
        ):
            final = base + _FUZZ_BONUS * similarity[index] / 100.0
            if pairs:
                # Match texts are space-padded, so " a b " finds the pair as whole words.
                text = self.fact_match_texts[index]
                final += _BIGRAM_BONUS * sum(pair in text for pair in pairs) / len(pairs)
            results.append(Ranked(final, share, index, tuple(strengths)))
        results.sort(key=lambda row: (-row[0], row[2]))
        return results

    def _best_idf(self, item: _Term) -> float:
        known = [self._idf(option) for option in item.options if option in self.postings]
        return max(known) if known else self._idf("")

    def _lacks_type(self, query: _Query, index: int) -> bool:
        """The question asks for a kind of answer (a time, a number ...) the fact cannot give."""
        return query.qtype is not None and not self.fact_types[index] & TYPE_BITS[query.qtype]

    def _profile(self, index: int) -> _FactProfile:
        """What the confidence features need of a fact, worked out once per fact."""
        found = self._profiles.get(index)
        if found is not None:
            return found
        if len(self._profiles) >= _PROFILE_CACHE:
            self._profiles.clear()
        fact = self.facts[index]
        words = frozenset(word.strip(".,;:!?\"'()") for word in fact.norm.replace("-", " ").split())
        lemmas = self.fact_match_texts[index].split()
        places: dict[str, int] = {}
        for place, word in enumerate(lemmas):
            places.setdefault(word, place)
        terms, negated = negation_scope(textmod.tokens(fact.text))
        speakers: set[str] = set()
        for clause in _CLAUSE.split(fact.text):  # "Ishiba, diplomatic sources said": not Ishiba
            tokens = textmod.tokens(clause)
            for place, token in enumerate(tokens):
                if token.word in SPEECH_WORDS:
                    near = tokens[max(0, place - _SPEAKER_REACH) : place + _SPEAKER_REACH + 1]
                    speakers.update(other.term for other in near if other.content)
        profile = _FactProfile(
            forms=words | frozenset(lemmas),
            numbers=frozenset(re.findall(r"\d+", fact.norm)) | (words & NUMBER_WORDS),
            negated=bool(textmod.NEGATIONS & words),
            places=places,
            terms=terms,
            negated_terms=negated,
            speakers=frozenset(speakers),
        )
        self._profiles[index] = profile
        return profile

    def features(self, query: _Query, ranked: list[Ranked], position: int) -> list[float]:
        """What the confidence of ``ranked[position]`` is computed from."""
        score, coverage, index, strengths = ranked[position]
        fact = self._profile(index)
        total = sum(item.weight for item in query.terms) or 1.0
        unknown = sum(item.weight for item in query.terms if not item.known) / total
        missing = [item for item, strength in zip(query.terms, strengths, strict=True) if not strength]
        matched = [item.weight for item, strength in zip(query.terms, strengths, strict=True) if strength]
        runner_up = ranked[position + 1][0] if position + 1 < len(ranked) else 0.0
        text = self.fact_match_texts[index]
        pairs = sum(f" {pair} " in text for pair in query.bigrams) / len(query.bigrams) if query.bigrams else 0.0
        base = [
            1.0,
            coverage,
            unknown,
            max((item.weight for item in missing if not item.known), default=0.0) / 8.0,
            max((item.weight for item in missing if item.known), default=0.0) / 8.0,
            1.0 if self._lacks_type(query, index) else 0.0,
            1.0 if query.numbers - fact.numbers else 0.0,
            1.0 / max(1, len(query.terms)),
            max(0.0, score - runner_up),
            max(matched, default=0.0) / 8.0,
            pairs,
            1.0 if query.negated and not fact.negated else 0.0,
            coverage * coverage,
            coverage / max(1, len(query.terms)),
            sum(
                item.weight
                for item, strength in zip(query.terms, strengths, strict=True)
                if item.corrected and strength
            )
            / total,
            1.0 if self._opposed(query.forms, fact.forms) else 0.0,
            *self._relation(query, strengths),
            1.0 if any(item.proper and not item.known for item in query.terms) else 0.0,
            self._replaced(query, strengths, fact.places),
            1.0 if self._negation_clash(query, fact) else 0.0,
        ]
        # Long, specific questions need their specifics covered: the same evidence means
        # less for them, so the main features also enter once more for long questions.
        long = 1.0 if len(query.terms) >= _LONG_QUESTION_TERMS else 0.0
        return [*base, long, long * coverage, long * unknown, long * base[4], long * base[8]]

    @staticmethod
    def _asks_what_no_fact_knows(query: _Query, strengths: tuple[float, ...], type_miss: bool) -> bool:
        """The best fact holds none of what the question asks about its names, and part of
        that ask is a word no fact uses ("When was Cho Hyun born?") or the fact lacks the
        kind of answer asked for ("How old is Lee?")."""
        # A writer who capitalizes names shows which words they are ("Lee", "Japanese"),
        # and a rare word written in lower case is then part of the ask ("stabilize").
        capitalizes = any(item.proper for item in query.terms)
        rest = [
            (item, hit)
            for item, hit in zip(query.terms, strengths, strict=True)
            if not (item.proper if capitalizes else item.name)
        ]
        return (
            bool(rest)
            and not any(hit for _, hit in rest)
            and (type_miss or any(not item.known and item.weight >= _UNKNOWN_ASK_WEIGHT for item, _ in rest))
        )

    def _reports_speaker(self, query: _Query, index: int) -> bool:
        """Whether the fact reports something said by whom the question asks about: one
        of the question's other words next to a word of speech ("sources said")."""
        if not self.fact_types[index] & TYPE_BITS[STATEMENT]:
            return False
        speakers = self._profile(index).speakers
        return any(
            not speakers.isdisjoint(item.options) or not speakers.isdisjoint(item.surface.split())
            for item in query.terms
            if item.surface not in _SPEECH_ASKS
        )

    @staticmethod
    def _negation_clash(query: _Query, fact: _FactProfile) -> bool:
        """A word both hold is negated in one and not in the other: "What did the court
        *not* acknowledge?" against "The court acknowledged ..."."""
        asked, denied = query.scope
        return any((term in denied) != (term in fact.negated_terms) for term in asked & fact.terms)

    @staticmethod
    def _replaced(query: _Query, strengths: tuple[float, ...], places: dict[str, int]) -> float:
        """1 when the fact holds the words on both sides of a question term but another
        word between them: "the *Spanish* Parliament passed" against "the Scottish
        Parliament passed". ``places`` holds where each of the fact's terms first occurs."""
        found = [
            min((places[option] for option in item.options if option in places), default=None) if hit else None
            for item, hit in zip(query.terms, strengths, strict=True)
        ]
        for number in range(1, len(found) - 1):
            before, after = found[number - 1], found[number + 1]
            if not strengths[number] and before is not None and after is not None and after - before == 2:
                return 1.0
        return 0.0

    @staticmethod
    def _relation(query: _Query, strengths: tuple[float, ...]) -> tuple[float, float]:
        """How much of what the question asks *about* its names the fact covers.

        Names ("Cho Hyun") find the facts about someone; the rest of the question ("born")
        is what must be answered. Returns the covered share of that rest (1 when the
        question is only names) and the weight of its heaviest word unknown to the
        knowledge (over 8).
        """
        rest = [(item, hit) for item, hit in zip(query.terms, strengths, strict=True) if not item.name]
        total = sum(item.weight for item, _ in rest)
        if not total:
            return 1.0, 0.0
        covered = sum(item.weight * hit for item, hit in rest) / total
        unknown = max((item.weight for item, hit in rest if not hit and not item.known), default=0.0)
        return covered, unknown / 8.0

    @staticmethod
    def _opposed(question: frozenset[str], fact: frozenset[str]) -> bool:
        """The question uses a word whose opposite, and not itself, is in the fact."""
        return any(word not in fact and not lexicon.opposites(word).isdisjoint(fact) for word in question)

    def _confidence(self, query: _Query, ranked: list[Ranked], position: int) -> float:
        features = self.features(query, ranked, position)
        z = sum(c * f for c, f in zip(self._coefficients, features, strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    # -- answering ---------------------------------------------------------------

    def answer(self, question: str, *, exclude: frozenset[str] = frozenset()) -> Answer:
        """Answer ``question``; facts whose ids are in ``exclude`` are passed over."""
        # Cutting first bounds the work per question, whatever the input's length.
        question = question[: self.max_question_chars]
        words = [token.word for token in textmod.tokens(question)]
        if not words:
            return self._reply(question, "empty")
        if set(words) & _GREETINGS and set(words) <= _GREETINGS | textmod.STOPWORDS:
            return self._reply(question, "greeting")
        if set(words) & _HELP and set(words) <= _HELP | _GREETINGS | textmod.STOPWORDS | {"can", "do", "you"}:
            return self._reply(question, "help")
        query = self.analyse(question)
        ranked = self.rank(query) if query.terms else []
        if exclude:
            ranked = [row for row in ranked if self.facts[row.fact_index].id not in exclude]
        candidates = [
            # Built from known-good parts, without pydantic's validation: this is per question.
            ScoredFact.model_construct(fact=self.facts[row.fact_index], score=round(max(0.0, row.score), 4))
            for row in ranked[:_CANDIDATES]
        ]
        if not ranked:
            return Answer(question=question, kind="abstain", confidence=0.0, facts=[], candidates=[], suggestions=[])
        best_score, best_index = ranked[0].score, ranked[0].fact_index
        confidence = self._confidence(query, ranked, 0)
        type_miss = self._lacks_type(query, best_index)
        if self._asks_what_no_fact_knows(query, ranked[0].strengths, type_miss) or (
            query.qtype == STATEMENT and not self._reports_speaker(query, best_index)
        ):
            confidence = min(confidence, self.threshold * 0.99)
        if confidence < self.threshold:
            near = [row.fact_index for row in ranked[: self.max_suggestions] if row.coverage >= _SUGGESTION_COVERAGE]
            return Answer(
                question=question,
                kind="abstain",
                confidence=confidence,
                facts=[],
                candidates=candidates,
                suggestions=[textmod.clip(self.facts[index].text, _SUGGESTION_CHARS) for index in near],
                suggestion_ids=[self.facts[index].id for index in near],
            )
        chosen = [ScoredFact(fact=self.facts[best_index], score=confidence)]
        for position, (score, _, index, _) in enumerate(ranked[1:], start=1):
            if len(chosen) >= self.max_facts or score < best_score * _MULTI_RATIO:
                break
            if self.facts[index].kind == "caption":
                continue  # a photo caption answers when it is the best fact, not as an extra
            other = self._confidence(query, ranked, position)
            if other >= self.threshold:
                chosen.append(ScoredFact(fact=self.facts[index], score=other))
        return Answer(
            question=question, kind="answer", confidence=confidence, facts=chosen, candidates=candidates, suggestions=[]
        )

    def answer_fact(self, fact_id: str) -> Answer | None:
        """An answer quoting one known fact (a suggestion the user picked), or None."""
        for fact in self.facts:
            if fact.id == fact_id:
                item = ScoredFact(fact=fact, score=1.0)
                return Answer(
                    question=fact.text, kind="answer", confidence=1.0, facts=[item], candidates=[item], suggestions=[]
                )
        return None

    def completions(self, text: str, limit: int = 25) -> list[str]:
        """Openings of the facts that best fit partly typed text, for autocomplete."""
        text = text[: self.max_question_chars]
        indices: list[int] = []
        if text.strip():
            query = self.analyse(text)
            indices = [row.fact_index for row in (self.rank(query) if query.terms else [])]
            if not indices:
                # A word still being typed: compare the fragment with each fact's text.
                matches = process.extract(
                    textmod.normalize(text),
                    {index: fact.norm for index, fact in enumerate(self.facts)},
                    scorer=fuzz.partial_ratio,
                    score_cutoff=_COMPLETION_CUTOFF,
                    limit=limit,
                )
                indices = [index for _, _, index in matches]
        else:
            indices = list(range(len(self.facts)))
        return [textmod.clip(self.facts[index].text, _SUGGESTION_CHARS) for index in indices[:limit]]

    def _reply(self, question: str, kind: str) -> Answer:
        return Answer(question=question, kind=kind, confidence=0.0, facts=[], candidates=[], suggestions=[])  # type: ignore[arg-type]


def matcher_for(settings: Settings, knowledge: Knowledge, *, index: FactIndex | None = None) -> Matcher:
    """A matcher with the thresholds and limits from ``settings``."""
    return Matcher(
        knowledge,
        index=index,
        threshold=settings.answer_threshold,
        max_facts=settings.max_facts,
        max_suggestions=settings.max_suggestions,
        max_question_chars=settings.max_question_chars,
    )
