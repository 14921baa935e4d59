"""The two ranking stages: candidates with named features, and the order a model puts them in."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.engine import rank as rankmod
from bot.engine.confidence import Model, read_model
from bot.engine.index import FactIndex
from bot.engine.knowledge import Knowledge
from bot.engine.matcher import Matcher
from bot.engine.parsing import parse_article
from bot.engine.rank import HAND_ORDER, RANK_FEATURES, RankModel, candidates, order
from bot.evaluation.calibrate import fit_models, fit_rank, questions, samples
from tests.conftest import ROOT

SQUAD_TRAIN = ROOT / "benchmarks" / "data" / "squad2-train.jsonl"


def _two_articles() -> Knowledge:
    first, first_facts = parse_article("a", "One sentence here. Another one there.\n\nA third, in a new paragraph.")
    second, second_facts = parse_article("b", "The second article opens. It goes on.")
    return Knowledge(articles={"a": first, "b": second}, facts=tuple(first_facts + second_facts))


def test_positions_count_facts_within_each_article() -> None:
    index = FactIndex.build(_two_articles())
    assert index.positions.tolist() == [0, 1, 2, 0, 1]


def test_candidates_carry_one_row_of_named_features_each(matcher: Matcher) -> None:
    query = matcher.analyse("When did Cho Hyun visit Japan?")
    found = candidates(matcher.index, query)
    assert found is not None
    assert found.features.shape == (len(found.fact_indices), len(RANK_FEATURES))
    lead = found.features[:, RANK_FEATURES.index("lead")]
    positions = matcher.index.positions[found.fact_indices]
    assert np.allclose(lead, 1.0 / (1 + positions))
    # A name-only fact holds none of the ask ("visit"), a fact with the ask holds some.
    content = dict(zip(found.fact_indices, found.features[:, RANK_FEATURES.index("content_direct")], strict=True))
    assert max(content.values()) > 0.0
    assert candidates(matcher.index, matcher.analyse("zzqx qqzx")) is None


def test_a_learned_order_scores_candidates_by_their_probability(matcher: Matcher) -> None:
    found = candidates(matcher.index, matcher.analyse("Who is Takeshi Iwaya?"))
    assert found is not None
    weights = RankModel.of({"content_share": 2.0, "name_share": 3.0, "similarity": 1.0})
    ranked = order(found, weights)
    assert sum(row.score for row in ranked) == pytest.approx(1.0)
    assert [row.score for row in ranked] == sorted((row.score for row in ranked), reverse=True)
    hand = order(found, HAND_ORDER)
    assert hand[0].score > 0.5  # the hand-set order keeps its raw scores


def test_the_ranking_model_is_fit_on_training_questions() -> None:
    rows = questions(SQUAD_TRAIN, ())
    some = [row for row in rows if row.record < 12]
    model = fit_rank([some])
    blank = RankModel((0.0,) * len(RANK_FEATURES))

    def right(candidate: RankModel) -> int:
        hits = 0
        for row in some:
            if row.answerable and row.found is not None:
                best = row.found.fact_indices.index(order(row.found, candidate)[0].fact_index)
                hits += bool(row.gold[best])
        return hits

    assert model.coefficients[RANK_FEATURES.index("content_share")] > 0
    assert right(model) > right(blank) + 10


def test_a_confidence_model_names_the_ranking_it_was_fit_with(tmp_path: Path) -> None:
    rows = [row for row in questions(SQUAD_TRAIN, ()) if row.record < 8]
    rank_model, model = fit_models([rows], ranking="learned")
    assert model.ranking == "learned" and rank_model.probabilities
    assert len(samples(rows, rank_model)) == len(rows)
    path = tmp_path / "confidence.json"
    path.write_text(model.to_json(), encoding="utf-8")
    assert read_model(path).ranking == "learned"
    assert Model(model.coefficients, model.threshold).ranking == "hand"
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, "ranking": "random"}), encoding="utf-8")
    with pytest.raises(RuntimeError, match="unknown ranking"):
        read_model(path)


def test_the_matcher_orders_with_the_ranking_its_confidence_model_names(seed: Knowledge) -> None:
    hand = Matcher(seed)
    assert hand.rank_model is HAND_ORDER
    shipped = hand.model
    learned = Matcher(seed, model=Model(shipped.coefficients, shipped.threshold, "learned"))
    assert learned.rank_model == rankmod.rank_model_for("learned")
    assert learned.rank_model.probabilities
    assert learned.rank(learned.analyse("Who is Takeshi Iwaya?"))
