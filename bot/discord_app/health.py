"""The running bot's state in a small JSON file, for health checks (``qabot health``).

The bot rewrites the file every :data:`INTERVAL` seconds while it runs; a file older
than :data:`STALE` seconds means the bot is gone or stuck.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

INTERVAL = 30.0
STALE = 3 * INTERVAL


def write_health(path: Path, *, ready: bool, latency: float, started: float) -> None:
    """Replace the file at ``path`` with the bot's state, atomically."""
    state = {
        "ready": ready,
        "latency_ms": round(latency * 1000, 1) if math.isfinite(latency) else None,
        "at": time.time(),
        "started": started,
        "pid": os.getpid(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(state), encoding="utf-8")
    partial.replace(path)


def read_health(path: Path, now: float | None = None) -> tuple[bool, str]:
    """Whether the bot is healthy, and one line saying so or why not."""
    now = time.time() if now is None else now
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        age = now - float(state["at"])
        ready = bool(state["ready"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return False, f"{path.resolve()}: no state from a running bot ({exc})"
    if age > STALE:
        return False, f"the bot's state is {age:.0f} s old; the bot is not running, or stuck"
    if not ready:
        return False, "the bot runs but is not connected to Discord"
    latency = state.get("latency_ms")
    shown = f"{latency:.0f} ms" if isinstance(latency, int | float) else "unknown"
    return True, f"ok: connected, gateway latency {shown}, state {age:.0f} s old"
