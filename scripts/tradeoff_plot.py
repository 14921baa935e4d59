"""Draw the threshold trade-off (answerable-correct against unanswerable-abstained) as SVG.

    .venv/bin/python scripts/tradeoff_plot.py benchmarks/data/article-dev.jsonl benchmarks/data/squad2-dev.jsonl

Every file is answered once; each threshold from 0.05 to 0.95 is then scored from the
same predictions, as ``eval --sweep`` does. The curve of each file goes to
``docs/tradeoff.svg``, with the default threshold marked.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.engine.confidence import default_model
from bot.engine.folder import load_knowledge
from bot.evaluation.harness import predict, read_records, sweep

WIDTH, HEIGHT, MARGIN = 520, 420, 60
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def curve(path: Path, thresholds: list[float]) -> list[tuple[float, float, float]]:
    records = list(read_records(path))
    aliases = load_knowledge(Path("knowledge")).aliases
    predictions, _ = predict(records, aliases, default_model().threshold)
    return [
        (t, s.answerable_correct or 0.0, s.unanswerable_abstained or 0.0)
        for t, s in sweep(records, predictions, thresholds)
    ]


def svg(curves: dict[str, list[tuple[float, float, float]]]) -> str:
    inner = WIDTH - 2 * MARGIN

    def x(value: float) -> float:
        return MARGIN + value * inner

    def y(value: float) -> float:
        return HEIGHT - MARGIN - value * (HEIGHT - 2 * MARGIN)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="14">Confidence threshold trade-off</text>',
    ]
    for tick in range(0, 11, 2):
        value = tick / 10
        parts.append(f'<line x1="{x(value)}" y1="{y(0)}" x2="{x(value)}" y2="{y(1)}" stroke="#eee"/>')
        parts.append(f'<line x1="{x(0)}" y1="{y(value)}" x2="{x(1)}" y2="{y(value)}" stroke="#eee"/>')
        parts.append(f'<text x="{x(value)}" y="{y(0) + 16}" text-anchor="middle">{value:.1f}</text>')
        parts.append(f'<text x="{x(0) - 8}" y="{y(value) + 4}" text-anchor="end">{value:.1f}</text>')
    parts.append(f'<rect x="{x(0)}" y="{y(1)}" width="{inner}" height="{y(0) - y(1)}" fill="none" stroke="#333"/>')
    parts.append(
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 18}" text-anchor="middle">unanswerable questions abstained</text>'
    )
    parts.append(
        f'<text x="16" y="{HEIGHT / 2}" text-anchor="middle" transform="rotate(-90 16 {HEIGHT / 2})">'
        "answerable questions answered correctly</text>"
    )
    for number, (name, points) in enumerate(curves.items()):
        colour = COLOURS[number % len(COLOURS)]
        path = " ".join(f"{'M' if i == 0 else 'L'}{x(ua):.1f},{y(ac):.1f}" for i, (_, ac, ua) in enumerate(points))
        parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        default = min(points, key=lambda point: abs(point[0] - default_model().threshold))
        parts.append(f'<circle cx="{x(default[2]):.1f}" cy="{y(default[1]):.1f}" r="5" fill="{colour}"/>')
        label = f"{name} (dot: default {default_model().threshold})"
        parts.append(f'<text x="{x(0) + 10}" y="{y(0.3) - 18 * number}" fill="{colour}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/tradeoff.svg"))
    args = parser.parse_args()
    thresholds = [round(0.05 * step, 2) for step in range(1, 20)]
    if default_model().threshold not in thresholds:
        thresholds = sorted([*thresholds, default_model().threshold])
    curves = {path.stem: curve(path, thresholds) for path in args.files}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(svg(curves) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
