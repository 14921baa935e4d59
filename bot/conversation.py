"""Conversations: follow-up questions answered in the context of the previous turns.

A conversation remembers its last few questions, the terms they were finally asked with,
and the facts that answered them. A question that leans on the previous turn (a
pronoun such as "he" or "there", an ellipsis such as "why?" or "and after that?", or
"what about Russia?") is asked again with the previous turn's topic added; a question
that stands on its own is answered on its own, so a new topic does not drag the old one
in. Memory is bounded: turns per conversation, a time to live, and a least recently
used limit on how many conversations are held.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot import lexicon
from bot import text as textmod
from bot.answer import Answer
from bot.matcher import Matcher

if TYPE_CHECKING:
    from bot.settings import Settings

# Words that point back at something said before.
_POINTERS = frozenset("he she they him her them his hers their theirs it its there that this those these then".split())
# Openings that continue the previous question rather than start a new one.
_CONTINUATIONS = (("and",), ("what", "about"), ("how", "about"), ("also",), ("then",), ("so",))
# A question with a word this rare, or a capitalized name after its first word, has a
# topic of its own ("Who wrote Hamlet?", "What is the capital of France?").
_OWN_TOPIC_ZIPF = 4.5
_NAME = re.compile(r"(?<=\S)\s+[A-Z][a-z]+")
# Words that a request for more may hold besides function words ("what happened next?").
_MORE = frozenset("next later afterwards else more".split())
# Words at least this rare in general English carry a topic ("Cho", "missile"); common
# ones ("talks", "discuss") carry the question's shape and survive a "what about X?".
_TOPIC_ZIPF = 5.5


@dataclass
class Turn:
    question: str
    asked: str  # the question as finally matched, context included
    fact_ids: tuple[str, ...]
    at: float
    names: tuple[str, ...] = ()  # the names in the fact that answered, if any


@dataclass
class Conversation:
    turns: deque[Turn] = field(default_factory=deque)
    seen: float = 0.0


def _words(question: str) -> list[textmod.Token]:
    return textmod.tokens(question)


def is_follow_up(question: str) -> bool:
    """Whether ``question`` leans on the previous turn instead of standing on its own."""
    tokens = _words(question)
    words = [token.word for token in tokens]
    if not words:
        return False
    if _POINTERS.intersection(words):
        return True
    if any(tuple(words[: len(opening)]) == opening for opening in _CONTINUATIONS):
        return True
    # No word that names a topic ("why?", "which countries are involved?"): the topic is
    # the one already under discussion. Names and rare words name topics.
    if _NAME.search(question.strip()):
        return False
    return not any(token.content and lexicon.zipf(token.word) < _OWN_TOPIC_ZIPF for token in tokens)


def is_continuation(question: str) -> bool:
    """Whether ``question`` only asks for more ("and after that?", "what else?")."""
    tokens = _words(question)
    words = [token.word for token in tokens]
    asks_more = bool(words) and (words[0] in ("and", "also", "then") or "else" in words or "more" in words)
    return asks_more and all(token.word in _MORE for token in tokens if token.content)


def _topic(asked: str) -> list[str]:
    """The topic-carrying words of an earlier question (its rarer content words)."""
    return [t.word for t in _words(asked) if t.content and lexicon.zipf(t.word) < _TOPIC_ZIPF]


def _shape(asked: str) -> list[str]:
    """The common content words of an earlier question, which a "what about X?" keeps."""
    return [t.word for t in _words(asked) if t.content and lexicon.zipf(t.word) >= _TOPIC_ZIPF]


def with_context(question: str, previous: Turn) -> str:
    """``question`` with the previous turn's topic added (or swapped, for "what about X").

    The topic is the previous question's rarer words and, unless the question asks for
    something further ("and then?"), the names in the fact that answered it: "he" and
    "there" most often point at what that answer was about.
    """
    tokens = _words(question)
    words = [token.word for token in tokens]
    swaps = words[:2] in (["what", "about"], ["how", "about"])
    if swaps or (words[:1] in (["and"], ["also"]) and not is_continuation(question)):
        # "What about Russia?", "and its nuclear program?": same question, new topic.
        return " ".join([question, *_shape(previous.asked)])
    own_names = _NAME.search(question.strip()) is not None
    names = () if is_continuation(question) or own_names else previous.names
    return " ".join([question, *_topic(previous.asked), *names])


def names_in(text: str) -> tuple[str, ...]:
    """Capitalized words after the first: the names a sentence mentions."""
    return tuple(dict.fromkeys(match.strip() for match in _NAME.findall(text)))


class Conversations:
    """Every conversation's recent turns, within bounds."""

    def __init__(self, matcher: Matcher, *, turns: int = 5, ttl: float = 900.0, limit: int = 10_000) -> None:
        self.matcher = matcher
        self.turns = turns
        self.ttl = ttl
        self.limit = limit
        self._held: OrderedDict[str, Conversation] = OrderedDict()

    def __len__(self) -> int:
        return len(self._held)

    def _conversation(self, key: str, now: float) -> Conversation:
        conversation = self._held.pop(key, None)
        if conversation is None or now - conversation.seen > self.ttl:
            conversation = Conversation()
        conversation.seen = now
        self._held[key] = conversation
        while len(self._held) > self.limit:
            self._held.popitem(last=False)
        while conversation.turns and now - conversation.turns[0].at > self.ttl:
            conversation.turns.popleft()
        return conversation

    def answer(self, key: str, question: str, now: float | None = None) -> Answer:
        """Answer ``question`` as the next turn of conversation ``key``."""
        now = time.monotonic() if now is None else now
        question = question[: self.matcher.max_question_chars]  # bounds the work, as the matcher does
        conversation = self._conversation(key, now)
        asked = question
        answer = self.matcher.answer(question)
        previous = conversation.turns[-1] if conversation.turns else None
        if is_continuation(question) and (previous is None or not previous.fact_ids):
            # "And then?" after nothing, or after a question the article could not answer.
            answer = Answer(question=question, kind="abstain", confidence=0.0, facts=[], candidates=[], suggestions=[])
        elif previous is not None and answer.kind in ("answer", "abstain") and is_follow_up(question):
            contextual = with_context(question, previous)
            # "And then?" asks for more: facts already quoted in this conversation are
            # passed over. Other follow-ups may well want the same fact again ("why?").
            given = frozenset(turn.fact_ids[0] for turn in conversation.turns if turn.fact_ids)
            followed = self.matcher.answer(contextual, exclude=given if is_continuation(question) else frozenset())
            asked = contextual  # the topic carries on to the next turn either way
            if followed.answered:
                answer = followed.model_copy(update={"question": question})
        if answer.kind in ("answer", "abstain"):
            facts = tuple(item.fact.id for item in answer.facts)
            names = names_in(answer.facts[0].fact.text) if answer.facts else ()
            conversation.turns.append(Turn(question, asked, facts, now, names))
            while len(conversation.turns) > self.turns:
                conversation.turns.popleft()
        return answer


def conversations_for(settings: Settings, matcher: Matcher) -> Conversations:
    """Conversation memory with the bounds from ``settings``."""
    return Conversations(
        matcher, turns=settings.conversation_turns, ttl=settings.conversation_ttl, limit=settings.max_conversations
    )
