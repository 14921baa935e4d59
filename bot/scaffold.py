"""``qabot init``: a knowledge folder with the example article, and a ``.env`` to edit.

Files that already exist are kept, never overwritten.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

EXAMPLE = "ishiba-lee-summit"


def init(target: Path) -> list[str]:
    """Create ``target/knowledge`` (the example article and the alias table) and
    ``target/.env``; returns one line per file, saying what was done."""
    data = resources.files("bot") / "data"
    knowledge = target / "knowledge"
    knowledge.mkdir(parents=True, exist_ok=True)
    wanted = [(data / "example" / name, knowledge / name) for name in _EXAMPLE_FILES]
    wanted.append((data / "env.example", target / ".env"))
    done = []
    for source, path in wanted:
        if path.exists():
            done.append(f"kept    {path.resolve()} (it exists)")
            continue
        path.write_bytes(source.read_bytes())
        done.append(f"created {path.resolve()}")
    return done


_EXAMPLE_FILES = (f"{EXAMPLE}.txt", f"{EXAMPLE}.meta.toml", "aliases.toml")
