"""Fit the matcher's confidence model on benchmark files and show the threshold trade-off.

    python scripts/calibrate.py ../shared/eval/article-dev.jsonl ../shared/eval/squad2-dev.jsonl

For every question it takes the features of the best-ranked fact and a label: 1 when
that fact answers the question, 0 when it does not or nothing does. A logistic
regression (plain gradient descent, L2) over those features gives the coefficients to
save with ``--write`` (``bot/confidence.json``). Files listed with ``--weight FILE=N`` count N
times, so a small file of the questions users really ask is not drowned by a large one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.evaluate import read_records
from bot.knowledge import Knowledge, load_knowledge, parse_article
from bot.matcher import CONFIDENCE_FILE, FEATURE_NAMES, Matcher


def samples(path: Path, aliases: tuple) -> list[tuple[list[float], int]]:  # type: ignore[type-arg]
    rows = []
    for record in read_records(path):
        article, facts = parse_article(record.id, record.context)
        knowledge = Knowledge(articles={article.id: article}, facts=tuple(facts), aliases=aliases)
        matcher = Matcher(knowledge, coefficients=(0.0,) * len(FEATURE_NAMES))
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
    parser.add_argument("--write", action="store_true", help="save the coefficients for the matcher")
    parser.add_argument("--l2", type=float, default=0.001)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    weights = {Path(k).name: float(v) for k, v in (item.split("=") for item in args.weight)}
    aliases = load_knowledge(Path("knowledge")).aliases
    rows = []
    for path in args.files:
        w = weights.get(path.name, 1.0)
        found = samples(path, aliases)
        # Each file's answered and abstained classes weigh the same, so the 0.5 boundary
        # aims at balanced accuracy rather than at the file's mix of questions.
        positives = sum(y for _, y in found) or 1
        negatives = (len(found) - positives) or 1
        rows += [(x, y, w * len(found) / 2 / (positives if y else negatives)) for x, y in found]
    coef = fit(rows, args.l2, args.steps)
    for name, value in zip(FEATURE_NAMES, coef, strict=True):
        print(f"{name:20s} {value:8.3f}")
    if args.write:
        data = {"features": list(FEATURE_NAMES), "coefficients": [round(c, 4) for c in coef]}
        CONFIDENCE_FILE.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {CONFIDENCE_FILE}")


if __name__ == "__main__":
    main()
