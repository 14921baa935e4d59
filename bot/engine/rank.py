"""Ranking: the candidate facts for a :class:`Query`, best first.

Two stages. The first finds candidates fast: every fact that holds a question term is
scored at once with numpy by the weighted share of the question's terms it holds
(partly through the sentence before it, see ``bot.engine.index.context_shares``), each
term weighing by its rarity in general English times how few facts hold it, names less
than the rest. The best :data:`CANDIDATES` go on to the second stage, which orders them
by a linear model over named :class:`RankFeatures` (how much of the question's content
and of its names a fact holds, directly or through the sentence before, whether it goes
on from a sentence naming who the question asks about, its place in the article, the
kind of answer it can give, quotation, word pairs, a rapidfuzz similarity). The order
shipped, :data:`HAND_ORDER`, weighs four of them by hand; a learned one, a conditional
logit over all of them whose coefficients are data (``rank.json`` beside this module,
fit by ``bot.evaluation.calibrate`` on training files), scores each candidate by its
probability among them.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from rapidfuzz import fuzz, process

from bot.engine.index import CONTEXT_REFERRING, STATEMENT, TYPE_BITS, FactIndex
from bot.engine.query import Query, Term

MODEL_FILE = Path(__file__).with_name("rank.json")

# First stage: the share of a name's weight in the fast score, and how many candidates
# go on to the learned order. The first stage only has to keep the answering fact among
# the candidates (recall), the second puts it first.
_NAME_RANK = 0.4
_TYPE_PENALTY = 0.25
CANDIDATES = 50
_QUOTE = re.compile(r"[\"“”«»]")
# Positions in the article beyond this count as this far (log scale).
_FAR = 50.0


class Ranked(NamedTuple):
    """One candidate fact: its rank score, the share of the question it covers, its index,
    and how strongly it holds each question term (in the order of the query's terms)."""

    score: float
    coverage: float
    fact_index: int
    strengths: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class RankFeatures:
    """What the learned order of the candidates is computed from, by name. Shares are of
    the question's terms, each weighing by its rarity in English and among the facts."""

    first_pass: float  # the first stage's score, over the most it can be
    content_share: float  # of the terms that are not names, held directly or through context
    content_direct: float  # of the terms that are not names, held by the fact itself
    name_share: float  # of the names
    name_direct: float
    name_any: float  # holds one of the names at least ("Johnson" for "Martin Johnson")
    content_plain: float  # of the terms that are not names, weighing by rarity in English only
    coverage: float  # of all terms, weighing by rarity in English only
    goes_on: float  # goes on from the sentence before (same paragraph, or refers back)
    goes_on_named: float  # ... and that sentence names someone asked about, the fact not
    refers_named: float  # ... and it opens with a word referring back ("She", "They")
    lead: float  # 1 for an article's first fact, 1/2 for the second ...
    lead_named: float  # the same when the question names someone or something
    novel: float  # share of the fact's terms the question does not hold
    position: float  # log of the place in the article, over log of 50
    type_hit: float  # the question asks for a kind of answer the fact can give
    type_miss: float  # ... that it cannot give
    quote: float  # "What did X say?" and the fact quotes someone
    pairs: float  # share of the question's word pairs the fact holds in order
    similarity: float  # rapidfuzz token set ratio of question and fact, over 100
    length: float  # log of the fact's number of terms
    caption: float  # a photo caption

    def values(self) -> tuple[float, ...]:
        return tuple(getattr(self, name) for name in RANK_FEATURES)


RANK_FEATURES = tuple(item.name for item in dataclasses.fields(RankFeatures))
_COLUMN = {name: number for number, name in enumerate(RANK_FEATURES)}
# What the first stage works out anyway, or cheaply: all the hand-set order needs.
_HAND_FEATURES = frozenset({"first_pass", "type_hit", "type_miss", "similarity", "pairs"})


class RankModel(NamedTuple):
    """An order of the candidates: coefficients in :data:`RANK_FEATURES` order. A learned
    model (``probabilities``) scores each candidate by its probability among them; the
    hand-set order (:data:`HAND_ORDER`) by the linear score itself."""

    coefficients: tuple[float, ...]
    probabilities: bool = True

    def to_json(self) -> str:
        data = {"features": list(RANK_FEATURES), "coefficients": [round(value, 4) for value in self.coefficients]}
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def of(cls, weights: dict[str, float], *, probabilities: bool = True) -> RankModel:
        return cls(tuple(weights.get(name, 0.0) for name in RANK_FEATURES), probabilities)


# The order the matcher ships with: the first stage's score, a penalty when the fact
# cannot hold the kind of answer asked for, bonuses for word pairs in the same order and
# for rapidfuzz similarity. Set by hand; the learned model (``rank.json``, fit by
# ``bot.evaluation.calibrate --ranking learned``) is measured against it with
# ``python -m bot eval --leave-one-out --ranking learned``. The confidence model names
# the order it was fit with, and the matcher uses that one.
HAND_ORDER = RankModel.of(
    {"first_pass": 1.0, "type_miss": -_TYPE_PENALTY, "pairs": 0.08, "similarity": 0.10}, probabilities=False
)


def rank_model_for(ranking: str) -> RankModel:
    """The order a confidence model was fit with: "hand" (:data:`HAND_ORDER`) or
    "learned" (the model shipped beside this module)."""
    return _learned() if ranking == "learned" else HAND_ORDER


@functools.cache
def _learned() -> RankModel:
    return read_rank_model(MODEL_FILE)


def read_rank_model(path: Path) -> RankModel:
    _, coefficients = read_coefficients(path, RANK_FEATURES, "bot.evaluation.calibrate --ranking learned --write")
    return RankModel(coefficients)


def read_coefficients(path: Path, names: tuple[str, ...], refit: str) -> tuple[dict[str, Any], tuple[float, ...]]:
    """A model file's data and its coefficients, checked against the features named."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data["features"]) != names:
        raise RuntimeError(f"{path} was fit for other features; refit it with {refit}")
    return data, tuple(float(value) for value in data["coefficients"])


class Candidates(NamedTuple):
    """The first stage's candidates for one query, with what the second stage needs."""

    fact_indices: list[int]
    coverage: list[float]
    strengths: list[tuple[float, ...]]
    features: np.ndarray  # one row of RankFeatures values per candidate


def _best_idf(index: FactIndex, item: Term) -> float:
    known = [index.idf(option) for option in item.options if option in index.postings]
    return max(known) if known else index.idf("")


def _shares(weights: np.ndarray, hits: np.ndarray) -> np.ndarray:
    total = float(weights.sum())
    return (weights @ hits) / total if total else np.zeros(hits.shape[1], dtype=np.float32)


def candidates(index: FactIndex, query: Query, needed: frozenset[str] | None = None) -> Candidates | None:
    """The facts worth ordering for ``query`` (None when no fact holds any of its terms),
    with the features named in ``needed`` (all of them by default; the rest stay 0)."""
    postings = index.postings
    if not any(option in postings for item in query.terms for option in item.options):
        return None
    # Dense arrays over all facts (a row per question term): cheaper than merging long
    # postings lists.
    hits = np.zeros((len(query.terms), len(index.knowledge.facts)), dtype=np.float32)
    for row, item in zip(hits, query.terms, strict=True):
        for option, strength in item.options.items():
            found = postings.get(option)
            if found is not None:
                row[found] = np.maximum(row[found], strength)
    learned = needed is None or not needed <= _HAND_FEATURES
    direct = hits
    if index.has_context:
        if learned:
            hits = hits.copy()  # the learned features tell what a fact holds itself
        # Facts are in reading order, so "the fact before" is the previous column.
        np.maximum(hits[:, 1:], index.context[1:] * hits[:, :-1], out=hits[:, 1:])
    shares = np.array([item.weight * item.rank_share for item in query.terms], dtype=np.float32)
    idfs = np.array([_best_idf(index, item) for item in query.terms], dtype=np.float32)
    covered = shares @ hits
    names = np.array([item.name for item in query.terms], dtype=bool)
    focus = np.where(names, _NAME_RANK, 1.0).astype(np.float32)
    found = np.flatnonzero(covered)
    first = ((shares * idfs * focus) @ hits)[found] / (float((shares * idfs * focus).sum()) or 1.0)
    has_type = np.ones(len(found), dtype=bool)
    if query.qtype:
        has_type = (index.types[found] & TYPE_BITS[query.qtype]) != 0
    # Candidates that cannot hold the kind of answer asked for come after the others.
    pick = first - _TYPE_PENALTY * ~has_type
    if len(found) > CANDIDATES:
        keep = np.argpartition(-pick, CANDIDATES)[:CANDIDATES]
        keep = keep[np.lexsort((found[keep], -pick[keep]))]
    else:
        keep = np.lexsort((found, -pick))
    chosen = found[keep]
    numbers = chosen.tolist()
    texts = index.match_texts
    features = np.zeros((len(numbers), len(RANK_FEATURES)))

    def wanted(*names: str) -> bool:
        return needed is None or not needed.isdisjoint(names)

    def put(name: str, values: ArrayLike) -> None:
        features[:, _COLUMN[name]] = values

    put("first_pass", first[keep])
    if query.qtype:
        put("type_hit", has_type[keep])
        put("type_miss", ~has_type[keep])
    if wanted("similarity"):
        similarity = process.cdist([query.norm], [texts[number] for number in numbers], scorer=fuzz.token_set_ratio)
        put("similarity", similarity[0] / 100.0)
    if query.bigrams and wanted("pairs"):
        pairs = [f" {pair} " for pair in query.bigrams]
        put("pairs", [sum(pair in texts[number] for pair in pairs) / len(pairs) for number in numbers])
    total = float(shares.sum()) or 1.0
    coverage = covered[chosen] / total
    if learned:
        _learned_features(index, query, chosen, hits, direct, shares, idfs, names, coverage, put)
    return Candidates(
        fact_indices=numbers,
        coverage=coverage.tolist(),
        strengths=[tuple(column) for column in hits[:, chosen].T.tolist()],
        features=features,
    )


def _learned_features(
    index: FactIndex,
    query: Query,
    chosen: np.ndarray,
    hits: np.ndarray,
    direct: np.ndarray,
    shares: np.ndarray,
    idfs: np.ndarray,
    names: np.ndarray,
    coverage: np.ndarray,
    put: Callable[[str, ArrayLike], None],
) -> None:
    """The features only the learned order uses."""
    heavy = shares * idfs
    # The candidates' columns, in double precision (small arrays; float32 products of
    # copied slices can raise spurious floating-point warnings).
    at = hits[:, chosen].astype(np.float64)
    at_direct = direct[:, chosen].astype(np.float64)
    put("content_share", _shares(heavy * ~names, at))
    put("content_direct", _shares(heavy * ~names, at_direct))
    put("name_share", _shares(heavy * names, at))
    put("name_direct", _shares(heavy * names, at_direct))
    put("name_any", (at[names] > 0).any(axis=0))
    put("content_plain", _shares(shares * ~names, at))
    put("coverage", coverage)
    # Who the question names, in the sentence before each candidate and not in it.
    before = np.maximum(chosen - 1, 0)
    named_before = (direct[:, before][names] > 0).any(axis=0) & ~(at_direct[names] > 0).any(axis=0)
    context = index.context[chosen] if index.has_context else np.zeros(len(chosen), dtype=np.float32)
    goes_on = (context > 0) & (chosen > 0)
    put("goes_on", goes_on)
    put("goes_on_named", goes_on & named_before)
    put("refers_named", (context >= CONTEXT_REFERRING) & named_before)
    positions = index.positions[chosen].astype(np.float64)
    put("lead", 1.0 / (1 + positions))
    put("lead_named", float(names.any()) / (1 + positions))
    put("position", np.log1p(np.minimum(positions, _FAR)) / math.log1p(_FAR))
    texts = index.match_texts
    options = {option for item in query.terms for option in item.options}
    owns = [set(texts[number].split()) for number in chosen.tolist()]
    put("novel", [1.0 - len(own & options) / len(own) if own else 0.0 for own in owns])
    put("length", [math.log1p(texts[number].count(" ")) for number in chosen.tolist()])
    facts = index.knowledge.facts
    put("caption", [float(facts[number].kind == "caption") for number in chosen.tolist()])
    if query.qtype == STATEMENT:
        put("quote", [float(bool(_QUOTE.search(facts[number].text))) for number in chosen.tolist()])


def order(found: Candidates, model: RankModel) -> list[Ranked]:
    """The candidates best first, each scored by ``model``."""
    z = found.features @ np.array(model.coefficients)
    if model.probabilities:
        z = np.exp(z - z.max())
        z /= z.sum()
    results = [
        Ranked(float(p), coverage, number, strengths)
        for p, coverage, number, strengths in zip(
            z.tolist(), found.coverage, found.fact_indices, found.strengths, strict=True
        )
    ]
    results.sort(key=lambda row: (-row[0], row[2]))
    return results


def rank(index: FactIndex, query: Query, model: RankModel | None = None) -> list[Ranked]:
    """The best candidate facts for ``query``, best first (at most :data:`CANDIDATES`)."""
    model = model or HAND_ORDER
    found = candidates(index, query, _needed(model))
    return [] if found is None else order(found, model)


@functools.lru_cache(maxsize=8)
def _needed(model: RankModel) -> frozenset[str]:
    """The features ``model`` gives a weight to."""
    return frozenset(name for name, value in zip(RANK_FEATURES, model.coefficients, strict=True) if value)
