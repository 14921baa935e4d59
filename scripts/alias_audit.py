"""What each alias group of the knowledge folder is worth, file by file.

    .venv/bin/python scripts/alias_audit.py benchmarks/data/squad2-dev.jsonl news-dev.jsonl

Every file is answered with the whole alias table, with none, and with each group left
out in turn, at the default settings. For each group it prints what the group brings:
questions answered correctly, unanswerable ones abstained on, and answering facts
ranked first, more (positive) or fewer (negative) than without it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.engine.folder import load_knowledge
from bot.engine.knowledge import AliasGroup
from bot.evaluation.harness import EvalRecord, predict, read_records, score

Counts = tuple[int, int, int]  # answered correctly, abstained correctly, ranked first


def counts(records: list[EvalRecord], aliases: tuple[AliasGroup, ...]) -> Counts:
    predictions, _ = predict(records, aliases)
    found = score(records, predictions, [0.0])
    return (
        round((found.answerable_correct or 0.0) * found.answerable),
        round((found.unanswerable_abstained or 0.0) * found.unanswerable),
        round((found.ranking_top1 or 0.0) * found.answerable),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--knowledge", type=Path, default=Path("knowledge"))
    args = parser.parse_args()
    aliases = load_knowledge(args.knowledge).aliases
    files = {path.name: list(read_records(path)) for path in args.files}
    whole = {name: counts(records, aliases) for name, records in files.items()}
    print("whole table:", whole)
    print("no aliases: ", {name: counts(records, ()) for name, records in files.items()})
    for number, group in enumerate(aliases):
        rest = aliases[:number] + aliases[number + 1 :]
        brings = {
            name: tuple(a - b for a, b in zip(whole[name], counts(records, rest), strict=True))
            for name, records in files.items()
        }
        kind = "related" if group.related else "same"
        print(f"{number:3d} {kind:7s} {', '.join(group.phrases[:3])}: {brings}")


if __name__ == "__main__":
    main()
