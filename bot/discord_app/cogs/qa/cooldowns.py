"""Per-user rate limits for questions."""

from __future__ import annotations

import time
from collections import OrderedDict, deque


class Cooldowns:
    """Per-user rate limit: at most ``rate`` questions in any ``per`` seconds.

    Users are kept in least-recently-used order, so forgetting idle users costs O(1) per
    question however many users there are (discord.py's own mappings scan them all).
    """

    def __init__(self, rate: int, per: float) -> None:
        self.rate = rate
        self.per = per
        self._recent: OrderedDict[int, deque[float]] = OrderedDict()

    def hit(self, user_id: int, now: float | None = None) -> float:
        """Count one question; 0 when allowed, else the seconds until the next is."""
        now = time.monotonic() if now is None else now
        while self._recent:
            oldest = next(iter(self._recent.values()))
            if oldest[-1] + self.per > now:
                break
            self._recent.popitem(last=False)
        stamps = self._recent.pop(user_id, None) or deque()
        while stamps and stamps[0] + self.per <= now:
            stamps.popleft()
        self._recent[user_id] = stamps
        if len(stamps) >= self.rate:
            return stamps[0] + self.per - now
        stamps.append(now)
        return 0.0
