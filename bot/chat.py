"""The local terminal chat: what a new user runs first, no Discord account needed.

On a terminal, replies are wrapped to its width by rich, with colour unless ``NO_COLOR``
is set; through a pipe, lines come out plain and whole. Typing the number of a "did you
mean" suggestion reads it; "help" explains how to ask; "reload" reads the knowledge
folder again (a folder that no longer loads keeps the articles loaded before); "quit",
"bye", Ctrl-D or Ctrl-C leave.
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from typing import TextIO

from bot.engine.answer import Answer
from bot.engine.conversation import Conversations
from bot.engine.knowledge import Knowledge, KnowledgeError
from bot.engine.text import printable
from bot.render import introduction, render_text

_PROMPT = "you> "
_QUIT = {"quit", "exit", "/quit", "/exit", ":q", "q"}
_RELOAD = {"reload", "/reload"}
_KEY = "terminal"


def _typed_lines() -> Iterator[str]:
    import readline  # noqa: F401  (line editing and history for input())

    while True:
        try:
            yield input(_PROMPT)
        except EOFError:
            print()
            return


class _Screen:
    """Where replies go: a terminal (wrapped to its width, colour if allowed) or plain text."""

    def __init__(self, stdout: TextIO, terminal: bool) -> None:
        self.stdout = stdout
        self.color = terminal and not os.environ.get("NO_COLOR")
        self._console = None
        if terminal:
            from rich.console import Console

            self._console = Console(file=stdout, highlight=False, no_color=not self.color, emoji=False)

    def show(self, text: str) -> None:
        if self._console is None:
            self.stdout.write(text + "\n")
            self.stdout.flush()
            return
        from rich.text import Text

        self._console.print(Text.from_ansi(hang(text, self._console.width)), markup=False)


_NUMBERED = re.compile(r"^(\s*\d+\.\s)")


def hang(text: str, width: int) -> str:
    """``text`` with each numbered line ("  1. ...") wrapped to ``width`` under its own
    words, not under its number; other lines are left to the terminal's wrapping."""
    lines = []
    for line in text.split("\n"):
        found = _NUMBERED.match(line)
        if found and len(line) > width and "\x1b" not in line:
            indent = " " * len(found.group(1))
            lines.append(textwrap.fill(line, width, subsequent_indent=indent, break_on_hyphens=False))
        else:
            lines.append(line)
    return "\n".join(lines)


def run_chat(
    knowledge: Knowledge,
    conversation: Conversations,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    verbose: bool = False,
    reload: Callable[[], Conversations] | None = None,
) -> int:
    """Answer questions typed at the terminal, as one conversation, until EOF, Ctrl-C, "quit" or "bye".
    ``reload`` loads the knowledge folder again, for "reload"."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty() and stdout.isatty()
    screen = _Screen(stdout, interactive)
    screen.show(introduction(knowledge) + "\nType a question, 'help' for how to ask, or 'quit' to leave.\n")
    lines: Iterator[str] = _typed_lines() if interactive else iter(stdin)
    suggestions: list[str] = []
    try:
        for line in lines:
            question = line.strip()
            if question.lower() in _QUIT:
                break
            if not question:
                continue
            if not interactive:
                stdout.write(f"{_PROMPT}{printable(question)}\n")
            if reload is not None and question.lower() in _RELOAD:
                try:
                    conversation = reload()
                except KnowledgeError as exc:
                    screen.show(
                        f"bot> Could not reload: {printable(str(exc))}\n"
                        "Still answering from the articles loaded before.\n"
                    )
                else:
                    knowledge, suggestions = conversation.matcher.knowledge, []
                    screen.show("bot> Reloaded. " + introduction(knowledge) + "\n")
                continue
            answer = _picked(conversation, question, suggestions) or conversation.answer(_KEY, question)
            suggestions = list(answer.suggestion_ids) if answer.kind == "abstain" else []
            reply = render_text(answer, knowledge, color=screen.color, verbose=verbose, pickable=True)
            if answer.kind == "help" and reload is not None:
                reply += "\n- Type reload after adding, changing or removing articles in the knowledge folder."
            screen.show("bot> " + reply + "\n")
            if answer.kind == "goodbye":
                break
    except KeyboardInterrupt:
        stdout.write("\n")
    return 0


def _picked(conversation: Conversations, typed: str, suggestions: list[str]) -> Answer | None:
    """The suggestion whose number was typed, as an answer; None when it is not a pick."""
    if not typed.isdigit() or not 1 <= int(typed) <= len(suggestions):
        return None
    return conversation.matcher.answer_fact(suggestions[int(typed) - 1])
