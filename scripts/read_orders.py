"""Measure the three orders of the reader's candidates on a held-out file.

    python scripts/read_orders.py benchmarks/data/squad2-dev.jsonl

For each order ("learned": the reader's logit and the lexical score combined by a
conditional logit; "reader": the logit alone; "lexical": the lexical engine's order, the
logit informing only the decision), the models are fit on the training files (as
``bot.evaluation.calibrate`` fits the shipped ones) and the held-out file is scored.
News-dev's figures come from ``python -m bot eval news-dev.jsonl --leave-one-out
--read-order ORDER``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.engine.folder import load_knowledge
from bot.engine.reader import default_reader
from bot.evaluation.calibrate import fit_models, questions
from bot.evaluation.harness import format_scores, predict, read_records, score

TRAINING = ("benchmarks/data/squad2-train.jsonl", "../shared/eval/news-dev.jsonl", "benchmarks/data/article-dev.jsonl")


def main() -> None:
    held_out = Path(sys.argv[1])
    training = [Path(name) for name in sys.argv[2:]] or [Path(name) for name in TRAINING]
    aliases = load_knowledge(Path("knowledge")).aliases
    reader = default_reader()
    groups = [questions(path, aliases, reader) for path in training]
    records = list(read_records(held_out))
    for order in ("learned", "reader", "lexical"):
        rank_model, model = fit_models(groups, read=order)
        predictions, latencies = predict(
            records, aliases, model.threshold, model=model, rank_model=rank_model, reader=reader
        )
        print(format_scores(f"{held_out.name}, {order} order", score(records, predictions, latencies)))


if __name__ == "__main__":
    main()
