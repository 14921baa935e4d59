"""Confidence: how likely the best-ranked fact answers the question, and two checks on top.

The confidence is a logistic model over named :class:`Features` of the best fact's
evidence: coverage, words the knowledge has never heard of, answer type, numbers,
negations, opposites, replaced words, and the reader's logit when it read the fact. Its
coefficients and the threshold chosen with them are data, written by
``bot.evaluation.calibrate``: ``confidence.json`` (fit with the reader, and holding the
order of the reader's candidates) and ``confidence-lexical.json`` (for
``QABOT_READER=off``); refit after changing a feature. Two checks can hold the
confidence below the threshold whatever the model says: the names found but none of the
ask covered (:func:`asks_what_no_fact_knows`), and "What did X say?" without X next to
a word of speech (:meth:`Evidence.reports_speaker`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from bot.engine import lexicon
from bot.engine import text as textmod
from bot.engine.index import NUMBER_WORDS, SPEECH_WORDS, STATEMENT, TYPE_BITS, FactIndex
from bot.engine.query import SPEECH_ASKS, Query, negation_scope
from bot.engine.rank import Ranked, read_coefficients
from bot.engine.reader import ReadOrder

MODEL_FILE = Path(__file__).with_name("confidence.json")
# The model for answering with the lexical evidence alone (``QABOT_READER=off``).
LEXICAL_MODEL_FILE = Path(__file__).with_name("confidence-lexical.json")
# Reader logits are clipped to this and divided by it, so that they lie in [-1, 1].
_LOGIT_SCALE = 12.0

# Questions with this many terms or more count as long (see Features.long).
_LONG_QUESTION_TERMS = 5
# An unknown word this heavy (zipf 5.5 or rarer), the only ask of a question, means abstain.
_UNKNOWN_ASK_WEIGHT = 2.5
# How far from "said", "according to" ... the one who spoke is looked for, within its clause.
_SPEAKER_REACH = 4
_CLAUSE = re.compile(r"[,;:.!?()]\s")
# Fact profiles kept (they are cheap to redo; this bounds memory on a large archive).
_PROFILE_CACHE = 20_000


@dataclass(frozen=True, slots=True)
class Features:
    """What the confidence in one ranked fact is computed from, by name.

    Weights of words are divided by ``lexicon.ZIPF_CEILING`` so that they lie in [0, 1].
    """

    bias: float
    coverage: float  # weighted share of the question the fact holds
    unknown_share: float  # weighted share of the question no fact holds
    max_missing_unknown: float  # heaviest question word the fact lacks and no fact has
    max_missing_known: float  # heaviest question word the fact lacks that another fact has
    type_miss: float  # the fact cannot hold the kind of answer asked for
    number_miss: float  # the question holds a number the fact lacks
    inverse_terms: float
    margin: float  # lead of the rank score over the runner-up's
    max_matched_weight: float
    pair_share: float  # share of the question's word pairs the fact holds in order
    negation_mismatch: float  # the question is negated and the fact is not
    coverage_squared: float
    coverage_per_term: float
    corrected_share: float  # weighted share reached only through typo or stem corrections
    opposite_word: float  # the fact holds the opposite of a question word
    relation_coverage: float  # covered share of what the question asks about its names
    relation_unknown: float  # heaviest unknown word of that ask
    unknown_proper: float  # a capitalized name the knowledge lacks
    replaced: float  # another word between the same neighbours ("Spanish" / "Scottish")
    negation_clash: float  # a word negated on one side only
    unknown_ask: float  # the fact holds none of the ask about the names (asks_what_no_fact_knows)
    speaker_missing: float  # "What did X say?" and X is not next to a word of speech in the fact
    # Long, specific questions need their specifics covered: the same evidence means less
    # for them, so the main features enter once more for long questions.
    long: float
    long_coverage: float
    long_unknown_share: float
    long_max_missing_known: float
    long_margin: float
    # The reader's view (``bot.engine.reader``), all 0 when it did not read: its logit for
    # the fact, that logit's lead over the best other candidate's, and its probability.
    read: float = 0.0
    reader_logit: float = 0.0
    reader_lead: float = 0.0
    reader_probability: float = 0.0

    def values(self) -> tuple[float, ...]:
        return tuple(getattr(self, name) for name in FEATURE_NAMES)


FEATURE_NAMES = tuple(item.name for item in dataclasses.fields(Features))


class Model(NamedTuple):
    """The logistic model's coefficients (in :data:`FEATURE_NAMES` order), the threshold
    chosen with them, the order of the candidates they were fit with ("hand" or
    "learned", see ``bot.engine.rank``) and, for a model fit with the reader, how the
    reader's candidates are put in order (:class:`bot.engine.reader.ReadOrder`)."""

    coefficients: tuple[float, ...]
    threshold: float
    ranking: str = "hand"
    read_order: ReadOrder | None = None

    def probability(self, features: Features) -> float:
        z = sum(c * f for c, f in zip(self.coefficients, features.values(), strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> str:
        data = {
            "features": list(FEATURE_NAMES),
            "coefficients": [round(value, 4) for value in self.coefficients],
            "threshold": self.threshold,
            "ranking": self.ranking,
            **({"read_order": self.read_order.to_dict()} if self.read_order is not None else {}),
        }
        return json.dumps(data, indent=2) + "\n"


@functools.cache
def default_model(reader: bool = False) -> Model:
    """The model shipped beside this module: the one fit with the reader, or the one for
    the lexical evidence alone."""
    return read_model(MODEL_FILE if reader else LEXICAL_MODEL_FILE)


def read_model(path: Path) -> Model:
    data, coefficients = read_coefficients(path, FEATURE_NAMES, "bot.evaluation.calibrate --write")
    ranking = data.get("ranking", "hand")
    if ranking not in ("hand", "learned"):
        raise RuntimeError(f"{path}: unknown ranking {ranking!r}")
    order = data.get("read_order")
    return Model(coefficients, float(data["threshold"]), ranking, ReadOrder.from_dict(order) if order else None)


class FactProfile(NamedTuple):
    """What the features need of a fact, worked out once per fact."""

    forms: frozenset[str]  # the words, punctuation stripped, and their lemmas
    numbers: frozenset[str]
    negated: bool  # holds a negation somewhere
    places: dict[str, int]  # where each lemma first occurs among the content lemmas
    terms: frozenset[str]  # content terms
    negated_terms: frozenset[str]  # those a negation governs
    speakers: frozenset[str]  # terms next to a word of speech ("sources said", "according to Lee")
    capitalized: frozenset[str]  # words written as names in it ("japanese" in "... Japanese Prime ...")


class Evidence:
    """Features and checks over one index, with its fact profiles cached."""

    def __init__(self, index: FactIndex) -> None:
        self.index = index
        self._profiles: dict[int, FactProfile] = {}

    def profile(self, number: int) -> FactProfile:
        found = self._profiles.get(number)
        if found is not None:
            return found
        if len(self._profiles) >= _PROFILE_CACHE:
            self._profiles.clear()
        fact = self.index.knowledge.facts[number]
        words = frozenset(word.strip(".,;:!?\"'()") for word in fact.norm.replace("-", " ").split())
        lemmas = self.index.match_texts[number].split()
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
        profile = FactProfile(
            forms=words | frozenset(lemmas),
            numbers=frozenset(re.findall(r"\d+", fact.norm)) | (words & NUMBER_WORDS),
            negated=bool(textmod.NEGATIONS & words),
            places=places,
            terms=terms,
            negated_terms=negated,
            speakers=frozenset(speakers),
            capitalized=frozenset(word.casefold() for word in textmod.capitalized(fact.text)),
        )
        self._profiles[number] = profile
        return profile

    def lacks_type(self, query: Query, number: int) -> bool:
        """The question asks for a kind of answer (a time, a number ...) the fact cannot give."""
        return query.qtype is not None and not self.index.types[number] & TYPE_BITS[query.qtype]

    def features(self, query: Query, ranked: Sequence[Ranked], position: int, logits: Sequence[float] = ()) -> Features:
        """The evidence that ``ranked[position]`` answers ``query``; ``logits`` are the
        reader's for the first candidates, in the same order, when it read them."""
        score, coverage, number, strengths = ranked[position]
        fact = self.profile(number)
        ceiling = lexicon.ZIPF_CEILING
        terms = query.terms
        total = sum(item.weight for item in terms) or 1.0
        unknown = sum(item.weight for item in terms if not item.known) / total
        missing = [item for item, strength in zip(terms, strengths, strict=True) if not strength]
        matched = [item.weight for item, strength in zip(terms, strengths, strict=True) if strength]
        runner_up = ranked[position + 1][0] if position + 1 < len(ranked) else 0.0
        text = self.index.match_texts[number]
        pairs = sum(f" {pair} " in text for pair in query.bigrams) / len(query.bigrams) if query.bigrams else 0.0
        max_missing_known = max((item.weight for item in missing if item.known), default=0.0) / ceiling
        margin = max(0.0, score - runner_up)
        relation_coverage, relation_unknown = _relation(query, strengths)
        long = 1.0 if len(terms) >= _LONG_QUESTION_TERMS else 0.0
        return Features(
            bias=1.0,
            coverage=coverage,
            unknown_share=unknown,
            max_missing_unknown=max((item.weight for item in missing if not item.known), default=0.0) / ceiling,
            max_missing_known=max_missing_known,
            type_miss=1.0 if self.lacks_type(query, number) else 0.0,
            number_miss=1.0 if query.numbers - fact.numbers else 0.0,
            inverse_terms=1.0 / max(1, len(terms)),
            margin=margin,
            max_matched_weight=max(matched, default=0.0) / ceiling,
            pair_share=pairs,
            negation_mismatch=1.0 if query.negated and not fact.negated else 0.0,
            coverage_squared=coverage * coverage,
            coverage_per_term=coverage / max(1, len(terms)),
            corrected_share=sum(
                item.weight for item, strength in zip(terms, strengths, strict=True) if item.corrected and strength
            )
            / total,
            opposite_word=1.0 if _opposed(query.forms, fact.forms) else 0.0,
            relation_coverage=relation_coverage,
            relation_unknown=relation_unknown,
            unknown_proper=1.0 if any(item.proper and not item.known for item in terms) else 0.0,
            replaced=_replaced(query, strengths, fact.places),
            negation_clash=1.0 if _negation_clash(query, fact) else 0.0,
            unknown_ask=1.0 if self.asks_unknown(query, strengths, number) else 0.0,
            speaker_missing=1.0 if query.qtype == STATEMENT and not self.reports_speaker(query, number) else 0.0,
            long=long,
            long_coverage=long * coverage,
            long_unknown_share=long * unknown,
            long_max_missing_known=long * max_missing_known,
            long_margin=long * margin,
            **_reader_features(logits, position),
        )

    def asks_unknown(self, query: Query, strengths: tuple[float, ...], number: int) -> bool:
        """:func:`asks_what_no_fact_knows` for fact ``number``, the names read as the
        question writes them or, in a question all in lower case, as the fact does."""
        writes_names = any(item.proper for item in query.terms)
        names_in_fact = frozenset() if writes_names else self.profile(number).capitalized
        return asks_what_no_fact_knows(query, strengths, self.lacks_type(query, number), names_in_fact)

    def reports_speaker(self, query: Query, number: int) -> bool:
        """Whether the fact reports something said by whom the question asks about: one
        of the question's other words next to a word of speech ("sources said")."""
        if not self.index.types[number] & TYPE_BITS[STATEMENT]:
            return False
        speakers = self.profile(number).speakers
        return any(
            not speakers.isdisjoint(item.options) or not speakers.isdisjoint(item.surface.split())
            for item in query.terms
            if item.surface not in SPEECH_ASKS
        )


def asks_what_no_fact_knows(
    query: Query, strengths: tuple[float, ...], type_miss: bool, names_in_fact: frozenset[str] = frozenset()
) -> bool:
    """The best fact holds none of what the question asks about its names, and part of
    that ask is a word no fact uses ("When was Cho Hyun born?") or the fact lacks the
    kind of answer asked for ("How old is Lee?").

    A writer who capitalizes names shows which words they are ("Lee", "Japanese"), and a
    rare word written in lower case is then part of the ask ("stabilize"). A question in
    lower case is read as if its words were capitalized as the fact writes them
    (``names_in_fact``): "does lee speak japanese" as "does Lee speak Japanese".
    """
    proper = [item.proper or any(word in names_in_fact for word in item.surface.split()) for item in query.terms]
    capitalizes = any(proper)
    rest = [
        (item, hit)
        for item, hit, named in zip(query.terms, strengths, proper, strict=True)
        if not (named if capitalizes else item.name)
    ]
    return (
        bool(rest)
        and not any(hit for _, hit in rest)
        and (type_miss or any(not item.known and item.weight >= _UNKNOWN_ASK_WEIGHT for item, _ in rest))
    )


def _reader_features(logits: Sequence[float], position: int) -> dict[str, float]:
    if position >= len(logits):
        return {}
    own = max(-_LOGIT_SCALE, min(_LOGIT_SCALE, float(logits[position])))
    others = [float(value) for place, value in enumerate(logits) if place != position]
    lead = own - max(others) if others else _LOGIT_SCALE
    lead = max(-_LOGIT_SCALE, min(_LOGIT_SCALE, lead))
    return {
        "read": 1.0,
        "reader_logit": own / _LOGIT_SCALE,
        "reader_lead": lead / _LOGIT_SCALE,
        "reader_probability": 1.0 / (1.0 + math.exp(-own)),
    }


def _negation_clash(query: Query, fact: FactProfile) -> bool:
    """A word both hold is negated in one and not in the other: "What did the court
    *not* acknowledge?" against "The court acknowledged ..."."""
    asked, denied = query.scope
    return any((term in denied) != (term in fact.negated_terms) for term in asked & fact.terms)


def _replaced(query: Query, strengths: tuple[float, ...], places: dict[str, int]) -> float:
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


def _relation(query: Query, strengths: tuple[float, ...]) -> tuple[float, float]:
    """How much of what the question asks *about* its names the fact covers.

    Names ("Cho Hyun") find the facts about someone; the rest of the question ("born")
    is what must be answered. Returns the covered share of that rest (1 when the
    question is only names) and the weight of its heaviest word unknown to the
    knowledge (over the zipf ceiling).
    """
    rest = [(item, hit) for item, hit in zip(query.terms, strengths, strict=True) if not item.name]
    total = sum(item.weight for item, _ in rest)
    if not total:
        return 1.0, 0.0
    covered = sum(item.weight * hit for item, hit in rest) / total
    unknown = max((item.weight for item, hit in rest if not hit and not item.known), default=0.0)
    return covered, unknown / lexicon.ZIPF_CEILING


def _opposed(question: frozenset[str], fact: frozenset[str]) -> bool:
    """The question uses a word whose opposite, and not itself, is in the fact."""
    return any(word not in fact and not lexicon.opposites(word).isdisjoint(fact) for word in question)
