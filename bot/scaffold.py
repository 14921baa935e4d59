"""``qabot init``: a knowledge folder with the example article, and a ``.env`` to edit.

Files that already exist are kept, never overwritten; a link is never written through,
even one whose target does not exist.
"""

from __future__ import annotations

import os
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
        try:
            # O_EXCL: fails on anything already there, a dangling link included.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except FileExistsError:
            why = "a link to nothing; not followed" if path.is_symlink() and not path.exists() else "it exists"
            done.append(f"kept    {path.absolute()} ({why})")
            continue
        with os.fdopen(fd, "wb") as target_file:
            target_file.write(source.read_bytes())
        done.append(f"created {path.resolve()}")
    return done


_EXAMPLE_FILES = (f"{EXAMPLE}.txt", f"{EXAMPLE}.meta.toml", "aliases.toml")
