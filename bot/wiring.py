"""Where the settings meet the engine: the matcher, its index (cached or not) and conversations.

Surfaces build engine objects only through these functions, so a setting is read in one
place. Each import of the engine happens inside the function that needs it: importing
this module (or the command line) loads neither numpy nor rapidfuzz.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.engine.conversation import Conversations
    from bot.engine.index import FactIndex
    from bot.engine.knowledge import Knowledge
    from bot.engine.matcher import Matcher
    from bot.engine.reader import Reader

log = logging.getLogger(__name__)


def load_knowledge(settings: Settings) -> Knowledge:
    """The knowledge folder's articles and facts, without building an index."""
    from bot.engine.folder import load_knowledge as load

    return load(settings.knowledge_dir)


def load_index(settings: Settings) -> FactIndex:
    """The knowledge folder's index: from the cache when its files are unchanged and the
    cache is on (``QABOT_USE_CACHE``), else built."""
    from bot.engine.cache import load_index as load

    return load(settings.knowledge_dir, settings.cache_dir if settings.use_cache else None)


def reader(settings: Settings) -> Reader | None:
    """The shipped reader, unless the setting turns it off (``QABOT_READER=off``) or this
    install lacks its model files (then the lexical evidence decides, and a warning says so)."""
    if not settings.reader:
        return None
    from bot.engine.reader import default_reader

    found = default_reader()
    if not found.available():
        log.warning("the reader's model files are missing from %s; answering without it", found.folder)
        return None
    return found


def threshold(settings: Settings) -> float:
    """The confidence needed to answer: the setting, or the model's own."""
    if settings.answer_threshold is not None:
        return settings.answer_threshold
    from bot.engine.confidence import default_model

    return default_model(reader=reader(settings) is not None).threshold


def matcher_for(settings: Settings, index: FactIndex | None = None) -> Matcher:
    """A matcher with the thresholds and limits from ``settings``, over ``index`` (by
    default, the knowledge folder's)."""
    from bot.engine.matcher import Matcher

    index = load_index(settings) if index is None else index
    return Matcher(
        index.knowledge,
        index=index,
        threshold=threshold(settings),
        max_facts=settings.max_facts,
        max_suggestions=settings.max_suggestions,
        max_question_chars=settings.max_question_chars,
        reader=reader(settings),
    )


def conversations_for(settings: Settings, matcher: Matcher) -> Conversations:
    """Conversation memory with the bounds from ``settings``."""
    from bot.engine.conversation import Conversations

    return Conversations(
        matcher, turns=settings.conversation_turns, ttl=settings.conversation_ttl, limit=settings.max_conversations
    )
