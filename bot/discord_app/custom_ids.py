"""Keys that name facts in buttons' custom ids: a custom id holds at most 100
characters, so a fact is named by a short digest of its id, which the bot maps back
(``QABot.fact_id``). Here, not in the cog, so the bot and its cogs share it without the
bot importing a cog's internals."""

from __future__ import annotations

import hashlib

CUSTOM_ID_LIMIT = 100


def fact_key(fact_id: str) -> str:
    """A short, stable key for ``fact_id`` (16 hex digits of its SHA-256)."""
    return hashlib.sha256(fact_id.encode()).hexdigest()[:16]
