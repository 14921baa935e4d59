"""Fit the matcher's confidence model on benchmark files and show the threshold trade-off.

    python scripts/calibrate.py ../shared/eval/article-dev.jsonl ../shared/eval/squad2-dev.jsonl

For every question it takes the features of the best-ranked fact and a label: 1 when
that fact answers the question, 0 when it does not or nothing does. A logistic
regression (plain gradient descent, L2) over those features gives the coefficients to
paste into ``CONFIDENCE_COEFFICIENTS``. Files listed with ``--weight FILE=N`` count N
times, so a small file of the questions users really ask is not drowned by a large one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.evaluate import read_records
from bot.knowledge import Knowledge, load_knowledge, parse_article
from bot.matcher import FEATURE_NAMES, Matcher


def samples(path: Path, aliases: tuple) -> list[tuple[list[float], int]]:  # type: ignore[type-arg]
    rows = []
    for record in read_records(path):
        article, facts = parse_article(record.id, record.context)
        matcher = Matcher(Knowledge(articles={article.id: article}, facts=tuple(facts), aliases=aliases))
        for question in record.questions:
            query = matcher.analyse(question.question)
            ranked = matcher.rank(query) if query.terms else []
            if not ranked:
                rows.append(([1.0] + [0.0] * (len(FEATURE_NAMES) - 1), 0))
                continue
            fact = matcher.facts[ranked[0][2]]
            right = any(fact.start < a.start + len(a.text) and a.start < fact.end for a in question.answers)
            rows.append((matcher.features(query, ranked, 0), int(bool(question.answerable) and right)))
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--weight", action="append", default=[], help="FILE=N: count this file's questions N times")
    parser.add_argument("--l2", type=float, default=0.001)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    weights = {Path(k).name: float(v) for k, v in (item.split("=") for item in args.weight)}
    aliases = load_knowledge(Path("knowledge")).aliases
    rows = []
    for path in args.files:
        w = weights.get(path.name, 1.0)
        rows += [(x, y, w) for x, y in samples(path, aliases)]
    coef = fit(rows, args.l2, args.steps)
    for name, value in zip(FEATURE_NAMES, coef, strict=True):
        print(f"{name:20s} {value:8.3f}")
    print("CONFIDENCE_COEFFICIENTS = (" + ", ".join(f"{c:.3f}" for c in coef) + ")")


if __name__ == "__main__":
    main()
