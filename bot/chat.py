"""The local terminal chat: what a new user runs first, no Discord account needed."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TextIO

from bot.engine.conversation import Conversations
from bot.engine.knowledge import Knowledge
from bot.engine.text import printable
from bot.render import introduction, render_text

_PROMPT = "you> "
_QUIT = {"quit", "exit", "/quit", "/exit", ":q"}


def _typed_lines() -> Iterator[str]:
    import readline  # noqa: F401  (line editing and history for input())

    while True:
        try:
            yield input(_PROMPT)
        except EOFError:
            print()
            return


def run_chat(
    knowledge: Knowledge, conversation: Conversations, *, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    """Answer questions typed at the terminal, as one conversation, until EOF, Ctrl-C or "quit"."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty() and stdout.isatty()
    color = stdout.isatty()
    stdout.write(introduction(knowledge) + "\nType a question, or 'quit' to leave.\n\n")
    lines: Iterator[str] = _typed_lines() if interactive else iter(stdin)
    try:
        for line in lines:
            question = line.strip()
            if question.lower() in _QUIT:
                break
            if not question:
                continue
            if not interactive:
                stdout.write(f"{_PROMPT}{printable(question)}\n")
            answer = conversation.answer("terminal", question)
            stdout.write("bot> " + render_text(answer, knowledge, color=color) + "\n\n")
            stdout.flush()
    except KeyboardInterrupt:
        stdout.write("\n")
    return 0
