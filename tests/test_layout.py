"""The layers point one way: the engine never imports discord, the bot never imports its
cogs' modules, and no module of the Discord app imports one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

BOT = ROOT / "bot"


def imports(path: Path) -> set[str]:
    """The modules a file imports, at run time and for type checking alike ("from a
    import b" counts as importing a.b when b is a module of a package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            package = ROOT / node.module.replace(".", "/")
            for alias in node.names:
                is_module = (package / f"{alias.name}.py").exists() or (package / alias.name).is_dir()
                found.add(f"{node.module}.{alias.name}" if is_module else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_engine_never_imports_discord() -> None:
    for path in (BOT / "engine").rglob("*.py"):
        assert not {name for name in imports(path) if name.split(".")[0] == "discord"}, path


def test_the_discord_app_has_no_import_cycle() -> None:
    graph = {
        module_name(path): {name for name in imports(path) if name.startswith("bot.discord_app")}
        for path in (BOT / "discord_app").rglob("*.py")
    }
    assert not {name for name in graph["bot.discord_app.bot"] if name.startswith("bot.discord_app.cogs")}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for name in graph.get(start, set()):
            if name == goal or (name not in seen and reaches(name, goal, seen | {name})):
                return True
        return False

    cycles = [name for name in graph if reaches(name, name, {name})]
    assert not cycles, cycles
