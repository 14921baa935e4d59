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

from bot.engine.confidence import FEATURE_NAMES, MODEL_FILE, Model, blank_model, default_model
from bot.engine.knowledge import AliasGroup, Knowledge, load_knowledge, parse_article
from bot.engine.matcher import Matcher
from bot.evaluation.harness import read_records
from bot.evaluation.metrics import overlaps

Sample = tuple[list[float], int, int, bool]  # features, label, record number, answerable


def samples(path: Path, aliases: tuple[AliasGroup, ...]) -> list[Sample]:
    """(features, label, record number, answerable) for every question of ``path``."""
    rows: list[Sample] = []
    for number, record in enumerate(read_records(path)):
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
        "--threshold", type=float, default=default_model().threshold, help="for --folds, and saved with --write"
    )
    args = parser.parse_args()
    weights = {Path(k).name: float(v) for k, v in (item.split("=") for item in args.weight)}
    aliases = load_knowledge(Path("knowledge")).aliases
    files = {path.name: samples(path, aliases) for path in args.files}
    rows = [row for name, found in files.items() for row in weighted(found, weights.get(name, 1.0))]
    coef = fit(rows, args.l2, args.steps)
    for name, value in zip(FEATURE_NAMES, coef, strict=True):
        print(f"{name:20s} {value:8.3f}")
    if args.write:
        MODEL_FILE.write_text(Model(tuple(coef), args.threshold).to_json(), encoding="utf-8")
        print(f"wrote {MODEL_FILE}")
    if args.folds >= 2:
        cross_validate(files, weights, args)


if __name__ == "__main__":
    main()
