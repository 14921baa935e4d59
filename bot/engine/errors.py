"""The engine's error for knowledge that cannot be used, in a module of its own: the
command line imports it without loading the engine (and numpy) behind it."""

from __future__ import annotations


class KnowledgeError(Exception):
    """The knowledge folder cannot be used; the message names the file and the problem."""
