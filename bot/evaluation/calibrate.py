"""Fit the matcher's confidence model on benchmark files and show the threshold trade-off.

    python -m bot.evaluation.calibrate FILE.jsonl [FILE.jsonl ...] [--write]

For every question it takes the features of the best-ranked fact and a label: 1 when
that fact answers the question, 0 when it does not or nothing does. A logistic
regression (plain gradient descent, L2) over those features gives the coefficients to
save with ``--write`` (``bot/engine/confidence.json``). Files listed with ``--weight FILE=N`` count N
times, so a small file of the questions users really ask is not drowned by a large one.
``--folds K`` also refits K times without a share of each file's records and scores the
records left out, which is what articles the model never saw would get.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.engine.confidence import FEATURE_NAMES, MODEL_FILE, Model, blank_model
from bot.engine.knowledge import AliasGroup, Knowledge, load_knowledge, parse_article
from bot.engine.matcher import Matcher
from bot.evaluation.harness import EvalRecord, Prediction, matchers, predict, read_records, score_turns
from bot.evaluation.metrics import overlaps

Sample = tuple[list[float], int, int, bool]  # features, label, record number, answerable


def samples(path: Path, aliases: tuple[AliasGroup, ...]) -> list[Sample]:
    """(features, label, record number, answerable) for every question of ``path``."""
    return [row for number, record in enumerate(read_records(path)) for row in record_samples(record, number, aliases)]


def record_samples(record: EvalRecord, number: int, aliases: tuple[AliasGroup, ...]) -> list[Sample]:
    """(features, label, ``number``, answerable) for every question of one record."""
    rows: list[Sample] = []
    article, facts = parse_article(record.id, record.context)
    knowledge = Knowledge(articles={article.id: article}, facts=tuple(facts), aliases=aliases)
    matcher = Matcher(knowledge, model=blank_model())
    for question in record.questions:
        answerable = bool(question.answerable)
        query = matcher.analyse(question.question)
        ranked = matcher.rank(query)
        if not ranked:
            rows.append(([1.0] + [0.0] * (len(FEATURE_NAMES) - 1), 0, number, answerable))
            continue
        fact = matcher.facts[ranked[0].fact_index]
        right = any(overlaps((fact.start, fact.end), answer.span) for answer in question.answers)
        label = int(answerable and right)
        rows.append((list(matcher.evidence.features(query, ranked, 0).values()), label, number, answerable))
    return rows


def fit(rows: list[tuple[list[float], int, float]], l2: float, steps: int) -> list[float]:
    """Weighted logistic regression by Newton's method (numpy comes with the bench extra)."""
    import numpy as np

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


def best_threshold(groups: list[list[Sample]], coef: list[float]) -> float:
    """The confidence threshold (0.20 to 0.80, by 0.02) with the best balanced accuracy,
    averaged over ``groups``: chosen on the data the model was fit on, never on dev files."""
    import numpy as np

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


def fit_model(groups: list[list[Sample]], threshold: float, *, l2: float = 0.001, steps: int = 50) -> Model:
    """The confidence model fit on ``groups`` of samples, each group weighing the same."""
    rows = [row for group in groups if group for row in weighted(group, 1.0)]
    return Model(tuple(fit(rows, l2, steps)), threshold)


def leave_one_out(
    records: list[EvalRecord],
    aliases: tuple[AliasGroup, ...],
    train: list[Sample],
    *,
    threshold: float,
    pooled: bool = False,
) -> tuple[list[Prediction], list[float], tuple[int, int, int, int]]:
    """Each record scored by a model fit on ``train`` and the other records only: what an
    article the model never saw gets. Returns the predictions, latencies and conversation
    turn counts (see ``harness.score_turns``) of all the folds."""
    per_record = {record.id: record_samples(record, number, aliases) for number, record in enumerate(records)}
    predictions: list[Prediction] = []
    latencies: list[float] = []
    counts = [0, 0, 0, 0]
    for record in records:
        others = [row for other, rows in per_record.items() if other != record.id for row in rows]
        model = fit_model([train, others], threshold)
        found, took = predict(records, aliases, threshold, pooled=pooled, model=model, only={record.id})
        predictions += found
        latencies += took
        by_record = matchers(records, aliases, pooled=pooled, threshold=threshold, model=model)
        for place, value in enumerate(score_turns(records, by_record, only={record.id})):
            counts[place] += value
    return predictions, latencies, (counts[0], counts[1], counts[2], counts[3])


def cross_validate(files: dict[str, list[Sample]], weights: dict[str, float], args: argparse.Namespace) -> None:
    """Refit ``folds`` times, each time without a share of each file's records, and score
    the questions of the records left out at ``threshold`` (what unseen articles would get)."""
    import numpy as np

    for name, found in files.items():
        if len({row[2] for row in found}) < args.folds:
            continue  # too few records to leave some out
        answered = np.zeros(len(found), dtype=bool)
        for fold in range(args.folds):
            train = []
            for other, rows in files.items():
                kept = [row for row in rows if other != name or row[2] % args.folds != fold]
                train += weighted(kept, weights.get(other, 1.0))
            coef = np.array(fit(train, args.l2, args.steps))
            for place, row in enumerate(found):
                if row[2] % args.folds == fold:
                    answered[place] = 1.0 / (1.0 + np.exp(-np.dot(coef, row[0]))) >= args.threshold
        right = sum(1 for (_, y, _, a), yes in zip(found, answered, strict=True) if a and y and yes)
        abstained = sum(1 for (_, _, _, a), yes in zip(found, answered, strict=True) if not a and not yes)
        total_answerable = sum(1 for row in found if row[3]) or 1
        total_unanswerable = (len(found) - sum(1 for row in found if row[3])) or 1
        correct, held = right / total_answerable, abstained / total_unanswerable
        print(
            f"{name}: {args.folds}-fold held-out at {args.threshold}: answerable-correct {correct:.3f}, "
            f"unanswerable-abstained {held:.3f}, balanced {(correct + held) / 2:.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.evaluation.calibrate", description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--weight", action="append", default=[], help="FILE=N: count this file's questions N times")
    parser.add_argument("--write", action="store_true", help="save the coefficients for the matcher")
    parser.add_argument("--l2", type=float, default=0.001)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--folds", type=int, default=0, help="also report K-fold held-out scores (K >= 2)")
    parser.add_argument(
        "--threshold",
        type=float,
        help="for --folds, and saved with --write (default: the best balanced accuracy on the files fit on)",
    )
    args = parser.parse_args()
    weights = {Path(k).name: float(v) for k, v in (item.split("=") for item in args.weight)}
    aliases = load_knowledge(Path("knowledge")).aliases
    files = {path.name: samples(path, aliases) for path in args.files}
    rows = [row for name, found in files.items() for row in weighted(found, weights.get(name, 1.0))]
    coef = fit(rows, args.l2, args.steps)
    for name, value in zip(FEATURE_NAMES, coef, strict=True):
        print(f"{name:20s} {value:8.3f}")
    if args.threshold is None:
        args.threshold = best_threshold(list(files.values()), coef)
        print(f"threshold            {args.threshold:8.2f} (best mean balanced accuracy of the files)")
    if args.write:
        MODEL_FILE.write_text(Model(tuple(coef), args.threshold).to_json(), encoding="utf-8")
        print(f"wrote {MODEL_FILE}")
    if args.folds >= 2:
        cross_validate(files, weights, args)


if __name__ == "__main__":
    main()
