"""Small measures shared by the harness, the calibration and the benchmarks."""

from __future__ import annotations

from collections.abc import Sequence


def overlaps(span: tuple[int, int], other: tuple[int, int]) -> bool:
    """Whether two half-open character spans ``[start, end)`` share a character: how a
    fact is judged against an answer span."""
    return span[0] < other[1] and other[0] < span[1]


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank); 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
