"""Ranking: the candidate facts for a :class:`Query`, best first.

Each question term weighs by its rarity in general English, times how few facts hold it;
names count less for ranking than the rest of the question. Candidate facts come from
the index's postings; each is scored by the weighted share of the question's terms it
holds (partly through the sentence before it, see ``bot.engine.index.context_shares``),
a bonus for word pairs in the same order, a rapidfuzz similarity, and a penalty when it
cannot hold the kind of thing asked for (a time for "when", a number for "how many").
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from bot.engine.index import TYPE_BITS, FactIndex
from bot.engine.query import Query, Term

# Share of a name's weight in the ranking: names find the facts about someone, and the
# rest of the question picks among them ("What did Alvarez and Brandt *agree* to?").
_NAME_RANK = 0.4
# Candidates that get the fine ranking after the fast first pass.
_FINE_RANKED = 50
# Ranking: share of weighted terms, plus these bonuses.
_BIGRAM_BONUS = 0.08
_FUZZ_BONUS = 0.10
_TYPE_PENALTY = 0.25


class Ranked(NamedTuple):
    """One candidate fact: its rank score, the share of the question it covers, its index,
    and how strongly it holds each question term (in the order of the query's terms)."""

    score: float
    coverage: float
    fact_index: int
    strengths: tuple[float, ...]


def _best_idf(index: FactIndex, item: Term) -> float:
    known = [index.idf(option) for option in item.options if option in index.postings]
    return max(known) if known else index.idf("")


def rank(index: FactIndex, query: Query) -> list[Ranked]:
    """The best candidate facts for ``query``, best first.

    Every fact that holds a question term is scored at once with numpy (the weighted
    share of the question it covers); only the best few then get the finer, slower
    bonuses (word pairs, rapidfuzz similarity).
    """
    postings = index.postings
    if not any(option in postings for item in query.terms for option in item.options):
        return []
    # Dense arrays over all facts (a row per question term): cheaper than merging long
    # postings lists.
    hits = np.zeros((len(query.terms), len(index.knowledge.facts)), dtype=np.float32)
    for row, item in zip(hits, query.terms, strict=True):
        for option, strength in item.options.items():
            found = postings.get(option)
            if found is not None:
                row[found] = np.maximum(row[found], strength)
    if index.has_context:
        # Facts are in reading order, so "the fact before" is the previous column.
        np.maximum(hits[:, 1:], index.context[1:] * hits[:, :-1], out=hits[:, 1:])
    shares = np.array([item.weight * item.rank_share for item in query.terms], dtype=np.float32)
    idfs = np.array([_best_idf(index, item) for item in query.terms], dtype=np.float32)
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
        score -= _TYPE_PENALTY * ((index.types[candidates] & TYPE_BITS[query.qtype]) == 0)
    if len(candidates) > _FINE_RANKED:
        best = np.argpartition(-score, _FINE_RANKED)[:_FINE_RANKED]
    else:
        best = np.arange(len(candidates))
    chosen = candidates[best].tolist()
    texts = index.match_texts
    similarity = {
        number: value
        for _, value, number in process.extract(
            query.norm, {number: texts[number] for number in chosen}, scorer=fuzz.token_set_ratio, limit=None
        )
    }
    results = []
    pairs = [f" {pair} " for pair in query.bigrams]
    by_term = hits[:, candidates[best]].T.tolist()
    for number, base, share, strengths in zip(
        chosen, score[best].tolist(), coverage[best].tolist(), by_term, strict=True
    ):
        final = base + _FUZZ_BONUS * similarity[number] / 100.0
        if pairs:
            # Match texts are space-padded, so " a b " finds the pair as whole words.
            text = texts[number]
            final += _BIGRAM_BONUS * sum(pair in text for pair in pairs) / len(pairs)
        results.append(Ranked(final, share, number, tuple(strengths)))
    results.sort(key=lambda row: (-row[0], row[2]))
    return results
