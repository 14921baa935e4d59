"""Fit the matcher's two learned models on training files.

    python -m bot.evaluation.calibrate FILE.jsonl [FILE.jsonl ...] [--write]

First, with ``--ranking learned``, the ranking model (``bot/engine/rank.json``; by
default the hand-set order is kept): for every answerable question, the
first stage's candidates and which of them overlap an answer; a conditional logit (the
answering candidates' probability among all of them, L2, Newton's method) gives the
coefficients of :data:`bot.engine.rank.RANK_FEATURES`. Then, with the candidates in
that model's order, the confidence model (``bot/engine/confidence.json``): the features
of the best candidate and a label, 1 when it answers the question, 0 when it does not or
nothing does; a logistic regression. The threshold is the one with the best balanced
accuracy on the same files. Every file weighs the same, whatever its number of
questions (``--weight FILE=N`` counts one N times).

Nothing here reads a dev file unless it is named: fit on training files, and report
what files or folds the fit never saw (``python -m bot eval --leave-one-out``).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bot.engine import rank as rankmod
from bot.engine.confidence import FEATURE_NAMES, LEXICAL_MODEL_FILE, Model
from bot.engine.confidence import MODEL_FILE as CONFIDENCE_FILE
from bot.engine.folder import load_knowledge
from bot.engine.knowledge import AliasGroup, Knowledge
from bot.engine.matcher import Matcher
from bot.engine.parsing import parse_article
from bot.engine.query import Query
from bot.engine.rank import RANK_FEATURES, Candidates, Ranked, RankModel
from bot.engine.reader import (
    ORDER_FEATURES,
    READ_CANDIDATES,
    READER_ALONE,
    Reader,
    ReadOrder,
    default_reader,
    order_features,
    reader_question,
)
from bot.evaluation.harness import EvalRecord, Prediction, matchers, predict, read_records, score_turns
from bot.evaluation.metrics import overlaps


class Asked(NamedTuple):
    """One training question: its matcher, analysed query, first-stage candidates, which of
    them answer it, and its record's number."""

    matcher: Matcher
    query: Query
    found: Candidates | None
    gold: np.ndarray
    answerable: bool
    record: int
    # The reader, and its logits by fact number as far as it has read (each fact is read
    # once, whatever order and fit asks for it); None without a reader.
    reader: Reader | None = None
    read: dict[int, float] | None = None

    def read_top(self, ranked: Sequence[Ranked]) -> tuple[list[Ranked], np.ndarray, np.ndarray]:
        """The first candidates of ``ranked`` that the reader reads, its logits for them,
        and which of them answer."""
        assert self.reader is not None and self.read is not None and self.found is not None
        top = list(ranked[:READ_CANDIDATES])
        missing = [row.fact_index for row in top if row.fact_index not in self.read]
        if missing:
            scores = self.reader.scores(
                reader_question(self.query),
                [self.matcher.passage(number) for number in missing],
            )
            self.read.update(zip(missing, (float(value) for value in scores), strict=True))
        places = {index: place for place, index in enumerate(self.found.fact_indices)}
        logits = np.array([self.read[row.fact_index] for row in top])
        gold = np.array([bool(self.gold[places[row.fact_index]]) for row in top], dtype=bool)
        return top, logits, gold


Sample = tuple[list[float], int, int, bool]  # confidence features, label, record number, answerable


def record_questions(
    record: EvalRecord, number: int, aliases: tuple[AliasGroup, ...], reader: Reader | None = None
) -> list[Asked]:
    """Every question of one record, ready for fitting; with ``reader``, its logits for
    each question's first candidates (read once: every fit reuses them)."""
    article, facts = parse_article(record.id, record.context)
    knowledge = Knowledge(articles={article.id: article}, facts=tuple(facts), aliases=aliases)
    # Models that know nothing yet: the features and candidates do not depend on them.
    blank = Model((0.0,) * len(FEATURE_NAMES), 0.5)
    matcher = Matcher(knowledge, model=blank, rank_model=RankModel((0.0,) * len(RANK_FEATURES)))
    rows: list[Asked] = []
    for question in record.questions:
        query = matcher.analyse(question.question)
        found = rankmod.candidates(matcher.index, query) if query.terms else None
        gold = np.zeros(0, dtype=bool)
        if found is not None:
            gold = np.array(
                [
                    any(overlaps((facts[i].start, facts[i].end), answer.span) for answer in question.answers)
                    for i in found.fact_indices
                ],
                dtype=bool,
            )
        row = Asked(matcher, query, found, gold, bool(question.answerable), number)
        if reader is not None and found is not None:
            row = row._replace(reader=reader, read={})
            row.read_top(rankmod.order(found, rankmod.HAND_ORDER))  # the shipped order's, read now
        rows.append(row)
    return rows


def questions(path: Path, aliases: tuple[AliasGroup, ...], reader: Reader | None = None) -> list[Asked]:
    """Every question of a benchmark file, ready for fitting."""
    return [
        row
        for number, record in enumerate(read_records(path))
        for row in record_questions(record, number, aliases, reader)
    ]


def fit_rank(groups: Sequence[Sequence[Asked]], *, l2: float = 0.003, steps: int = 30) -> RankModel:
    """The conditional logit over the candidates of the answerable questions whose
    answer is among them; each group weighs the same. (``l2`` was chosen by 5-fold
    cross-validation on squad2-train.)"""
    items: list[tuple[np.ndarray, np.ndarray, float]] = []
    for group in groups:
        usable = [row for row in group if row.answerable and row.found is not None and row.gold.any()]
        for row in usable:
            assert row.found is not None
            items.append((row.found.features, row.gold, 1.0 / len(usable)))
    return RankModel(tuple(conditional_logit(items, len(RANK_FEATURES), l2, steps).tolist()))


def fit_read_order(
    groups: Sequence[Sequence[Asked]], rank_model: RankModel, *, l2: float = 0.003, steps: int = 30
) -> ReadOrder:
    """How to order the candidates the reader read (the first of ``rank_model``'s order):
    a conditional logit over :data:`bot.engine.reader.ORDER_FEATURES` of the answerable
    questions whose answer is among them; each group weighs the same."""
    items: list[tuple[np.ndarray, np.ndarray, float]] = []
    for group in groups:
        read = []
        for row in group:
            if row.answerable and row.reader is not None and row.found is not None:
                top, logits, gold = row.read_top(rankmod.order(row.found, rank_model))
                if gold.any():
                    read.append((order_features(logits, [item.score for item in top]), gold))
        items += [(features, gold, 1.0 / len(read)) for features, gold in read]
    coef = conditional_logit(items, len(ORDER_FEATURES), l2, steps)
    return ReadOrder(tuple(float(value) for value in coef), READ_CANDIDATES)


def conditional_logit(
    items: Sequence[tuple[np.ndarray, np.ndarray, float]], width: int, l2: float, steps: int
) -> np.ndarray:
    """Coefficients that make the gold candidates of each item (features, gold mask,
    weight) likely among its candidates: L2, Fisher scoring."""
    coef = np.zeros(width)
    if not items:
        return coef

    def objective(values: np.ndarray) -> float:
        total = 0.0
        for x, gold, weight in items:
            z = x @ values
            top = z.max()
            total += weight * (np.log(np.exp(z[gold] - top).sum()) - np.log(np.exp(z - top).sum()))
        return total - 0.5 * l2 * float(values @ values)

    current = objective(coef)
    for _ in range(steps):
        grad = -l2 * coef
        fisher = l2 * np.eye(width)
        for x, gold, weight in items:
            z = x @ coef
            p = np.exp(z - z.max())
            p /= p.sum()
            q = np.where(gold, p, 0.0)
            q /= q.sum()
            mean = p @ x
            grad += weight * (q @ x - mean)
            centred = x - mean
            fisher += weight * (centred * p[:, None]).T @ centred
        # Fisher scoring, with the step halved until the objective improves.
        step = np.linalg.solve(fisher, grad)
        size = 1.0
        while size > 1e-4:
            trial = coef + size * step
            value = objective(trial)
            if value >= current:
                break
            size /= 2
        else:
            break
        coef, gain, current = trial, value - current, value
        if gain < 1e-9:
            break
    return coef


def samples(rows: Iterable[Asked], rank_model: RankModel, read_order: ReadOrder | None = None) -> list[Sample]:
    """(confidence features, label, record number, answerable) of each question, its
    candidates put in ``rank_model``'s order, then the read ones in ``read_order``'s."""
    found: list[Sample] = []
    blank = [1.0] + [0.0] * (len(FEATURE_NAMES) - 1)
    for row in rows:
        if row.found is None:
            found.append((blank, 0, row.record, row.answerable))
            continue
        ranked = rankmod.order(row.found, rank_model)
        logits: list[float] = []
        if read_order is not None and row.reader is not None:
            top, read, _ = row.read_top(ranked)
            scores = read_order.scores(read, [item.score for item in top])
            order = sorted(range(len(top)), key=lambda place: -scores[place])
            ranked = [top[place] for place in order] + ranked[len(top) :]
            logits = [float(read[place]) for place in order]
        best = row.found.fact_indices.index(ranked[0].fact_index)
        label = int(row.answerable and bool(row.gold[best]))
        features = row.matcher.evidence.features(row.query, ranked, 0, logits)
        found.append((list(features.values()), label, row.record, row.answerable))
    return found


def fit(rows: list[tuple[list[float], int, float]], l2: float, steps: int) -> list[float]:
    """Weighted logistic regression by Newton's method."""
    x = np.array([r[0] for r in rows], dtype=float)
    y = np.array([r[1] for r in rows], dtype=float)
    w = np.array([r[2] for r in rows], dtype=float)
    w = w / w.sum()
    coef = np.zeros(x.shape[1])
    penalty = np.eye(x.shape[1]) * l2
    penalty[0, 0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ coef, -30, 30)))
        grad = x.T @ (w * (p - y)) + penalty @ coef
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hess, grad)
        coef -= step
        if np.abs(step).max() < 1e-8:
            break
    return [float(c) for c in coef]


def weighted(found: list[Sample], weight: float) -> list[tuple[list[float], int, float]]:
    """Rows whose answered and abstained classes weigh the same within their file, so the
    0.5 boundary aims at balanced accuracy rather than at the file's mix of questions."""
    positives = sum(row[1] for row in found) or 1
    negatives = (len(found) - positives) or 1
    return [(x, y, weight * len(found) / 2 / (positives if y else negatives)) for x, y, _, _ in found]


def best_threshold(groups: list[list[Sample]], coef: Sequence[float]) -> float:
    """The confidence threshold (0.20 to 0.80, by 0.02) with the best balanced accuracy,
    averaged over ``groups``: chosen on the data the model was fit on, never on dev files."""

    def balanced(group: list[Sample], threshold: float) -> float:
        x = np.array([row[0] for row in group], dtype=float)
        answered = 1.0 / (1.0 + np.exp(-(x @ np.array(coef)))) >= threshold
        labels = np.array([row[1] for row in group], dtype=bool)
        answerable = np.array([row[3] for row in group], dtype=bool)
        right = (answered & labels).sum() / max(1, answerable.sum())
        held = (~answered & ~answerable).sum() / max(1, (~answerable).sum())
        return float(right + held) / 2

    grid = [round(0.2 + 0.02 * step, 2) for step in range(31)]
    return max(grid, key=lambda threshold: (sum(balanced(group, threshold) for group in groups if group), -threshold))


def fit_models(
    groups: Sequence[Sequence[Asked]],
    *,
    ranking: str = "hand",
    threshold: float | None = None,
    read: str = "learned",
    l2: float = 0.001,
    steps: int = 50,
) -> tuple[RankModel, Model]:
    """The ranking model (learned, or the hand-set order) and the confidence model fit
    on ``groups`` (each weighing the same); the threshold, unless given, is the best
    balanced accuracy on them. When the groups were read by the reader, the read order
    too: ``read`` "learned" (fit here), "reader" (its logits alone) or "lexical" (the
    lexical order kept, the logits only informing the confidence)."""
    rank_model = fit_rank(groups) if ranking == "learned" else rankmod.HAND_ORDER
    read_order: ReadOrder | None = None
    if any(row.reader is not None for group in groups for row in group):
        read_order = {
            "learned": lambda: fit_read_order(groups, rank_model),
            "reader": lambda: READER_ALONE,
            "lexical": lambda: ReadOrder((0.0,) * len(ORDER_FEATURES), READ_CANDIDATES),
        }[read]()
    found = [samples(group, rank_model, read_order) for group in groups if group]
    coef = fit([row for group in found for row in weighted(group, 1.0)], l2, steps)
    if threshold is None:
        threshold = best_threshold(found, coef)
    return rank_model, Model(tuple(coef), threshold, ranking, read_order)


def leave_one_out(
    records: list[EvalRecord],
    aliases: tuple[AliasGroup, ...],
    train: Sequence[Sequence[Asked]],
    *,
    ranking: str = "hand",
    threshold: float | None = None,
    pooled: bool = False,
    reader: Reader | None = None,
    read: str = "learned",
) -> tuple[list[Prediction], list[float], tuple[int, int, int, int]]:
    """Each record scored by models fit on the ``train`` groups (a file each) and the
    other records only: what an
    article the models never saw gets. The threshold too is chosen on those, unless
    given. Returns the predictions, latencies and conversation turn counts (see
    ``harness.score_turns``) of all the folds."""
    per_record = {record.id: record_questions(record, number, aliases, reader) for number, record in enumerate(records)}
    predictions: list[Prediction] = []
    latencies: list[float] = []
    counts = [0, 0, 0, 0]
    for record in records:
        others = [row for other, rows in per_record.items() if other != record.id for row in rows]
        rank_model, model = fit_models([*train, others], ranking=ranking, threshold=threshold, read=read)
        found, took = predict(
            records,
            aliases,
            model.threshold,
            pooled=pooled,
            model=model,
            rank_model=rank_model,
            only={record.id},
            reader=reader,
        )
        predictions += found
        latencies += took
        by_record = matchers(
            records,
            aliases,
            pooled=pooled,
            threshold=model.threshold,
            model=model,
            rank_model=rank_model,
            reader=reader,
        )
        for place, value in enumerate(score_turns(records, by_record, only={record.id})):
            counts[place] += value
    return predictions, latencies, (counts[0], counts[1], counts[2], counts[3])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.evaluation.calibrate", description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--weight", action="append", default=[], help="FILE=N: count this file's questions N times")
    parser.add_argument("--write", action="store_true", help="save both models for the matcher")
    parser.add_argument("--threshold", type=float, help="saved with --write (default: best balanced accuracy)")
    parser.add_argument(
        "--ranking", choices=("hand", "learned"), default="hand", help="fit the ranking model too (learned)"
    )
    parser.add_argument(
        "--lexical", action="store_true", help="fit the model for answering without the reader (QABOT_READER=off)"
    )
    parser.add_argument(
        "--read-order",
        choices=("learned", "reader", "lexical"),
        default="learned",
        help="how the reader's candidates are ordered (default: fit)",
    )
    args = parser.parse_args()
    reader = None if args.lexical else default_reader()
    weights = {Path(k).name: int(v) for k, v in (item.split("=") for item in args.weight)}
    aliases = load_knowledge(Path("knowledge")).aliases
    groups = []
    for path in args.files:
        found = questions(path, aliases, reader)
        groups += [found] * weights.get(path.name, 1)
    rank_model, model = fit_models(groups, ranking=args.ranking, threshold=args.threshold, read=args.read_order)
    print(f"ranking model ({args.ranking}):")
    for name, value in zip(RANK_FEATURES, rank_model.coefficients, strict=True):
        print(f"  {name:24s} {value:8.3f}")
    print("confidence model:")
    for name, value in zip(FEATURE_NAMES, model.coefficients, strict=True):
        print(f"  {name:24s} {value:8.3f}")
    print(f"  threshold                {model.threshold:8.2f}")
    if model.read_order is not None:
        print("read order:")
        for name, value in zip(ORDER_FEATURES, model.read_order.coefficients, strict=True):
            print(f"  {name:24s} {value:8.3f}")
    if args.write:
        if args.ranking == "learned":
            rankmod.MODEL_FILE.write_text(rank_model.to_json(), encoding="utf-8")
            print(f"wrote {rankmod.MODEL_FILE}")
        target = LEXICAL_MODEL_FILE if args.lexical else CONFIDENCE_FILE
        target.write_text(model.to_json(), encoding="utf-8")
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
