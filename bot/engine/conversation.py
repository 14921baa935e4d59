"""Conversations: follow-up questions answered in the context of the previous turns.

A conversation remembers its last few questions, the terms they were finally asked with,
and the facts that answered them. A question that leans on the previous turn (a
pronoun such as "he" or "there", an ellipsis such as "why?" or "and after that?", or
"what about Russia?") is analysed with the previous turn's topic added; a question
that stands on its own is answered on its own, so a new topic does not drag the old one
in. A follow-up is analysed once, as the question plus the words it carries over.
Memory is bounded: turns per conversation, a time to live, and a least recently
used limit on how many conversations are held.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from bot.engine import lexicon
from bot.engine import text as textmod
from bot.engine.answer import Answer
from bot.engine.matcher import Matcher, small_talk

# Words that point back at something said before.
_POINTERS = textmod.REFERRING | {"there", "that", "then"}
# Openings that continue the previous question rather than start a new one.
_CONTINUATIONS = (("and",), ("what", "about"), ("how", "about"), ("also",), ("then",), ("so",))
# A question with a word this rare, or a capitalized name after its first word, has a
# topic of its own ("Who wrote Hamlet?", "What is the capital of France?").
_OWN_TOPIC_ZIPF = 4.5
# Words that a request for more may hold besides function words ("what happened next?").
_MORE = frozenset("next later afterwards else more".split())
# Words at least this rare in general English carry a topic ("Cho", "missile"); common
# ones ("talks", "discuss") carry the question's shape and survive a "what about X?".
_TOPIC_ZIPF = 5.5


@dataclass
class Turn:
    question: str
    asked: list[textmod.Token]  # the question's tokens as finally matched, carried words included
    fact_ids: tuple[str, ...]
    at: float
    names: tuple[str, ...] = ()  # the names in the fact that answered, if any
    article_id: str | None = None  # the article the answer came from, if any
    subject: str = ""  # the one person or thing the question named (or a pronoun stood for)


@dataclass
class Conversation:
    turns: deque[Turn] = field(default_factory=deque)
    seen: float = 0.0


def is_follow_up(question: str, tokens: list[textmod.Token] | None = None, names: frozenset[str] = frozenset()) -> bool:
    """Whether ``question`` leans on the previous turn instead of standing on its own.

    ``names`` are the words the knowledge writes as names: one of them in a question
    typed in lower case ("is north korea mentioned") names a topic of its own too.
    """
    tokens = textmod.tokens(question) if tokens is None else tokens
    words = [token.word for token in tokens]
    if not words:
        return False
    if _POINTERS.intersection(words):
        return True
    if any(tuple(words[: len(opening)]) == opening for opening in _CONTINUATIONS):
        return True
    # No word that names a topic ("why?", "which countries are involved?"): the topic is
    # the one already under discussion. Names and rare words name topics.
    if _names_a_topic(question, tokens, names):
        return False
    return not any(token.content and lexicon.zipf(token.word) < _OWN_TOPIC_ZIPF for token in tokens)


def is_continuation(tokens: list[textmod.Token]) -> bool:
    """Whether a question only asks for more ("and after that?", "what else?")."""
    words = [token.word for token in tokens]
    asks_more = bool(words) and (words[0] in ("and", "also", "then") or "else" in words or "more" in words)
    return asks_more and all(token.word in _MORE for token in tokens if token.content)


def _names_a_topic(question: str, tokens: list[textmod.Token], names: frozenset[str]) -> bool:
    """A name in the question: capitalized by its writer, or one the knowledge writes."""
    return bool(textmod.capitalized(question)) or any(token.content and token.word in names for token in tokens)


def carried_words(
    question: str, tokens: list[textmod.Token], previous: Turn, names: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    """What a follow-up carries over from the previous turn (or swaps, for "what about X").

    The topic is the previous question's rarer words and, unless the question asks for
    something further ("and then?"), the names in the fact that answered it: "he" and
    "there" most often point at what that answer was about.
    """
    words = [token.word for token in tokens]
    swaps = words[:2] in (["what", "about"], ["how", "about"])
    if swaps or (words[:1] in (["and"], ["also"]) and not is_continuation(tokens)):
        # "What about Russia?", "and its nuclear program?": same question, new topic.
        # The common content words carry the question's shape.
        return tuple(t.word for t in previous.asked if t.content and lexicon.zipf(t.word) >= _TOPIC_ZIPF)
    topic = tuple(t.word for t in previous.asked if t.content and lexicon.zipf(t.word) < _TOPIC_ZIPF)
    own_names = _names_a_topic(question, tokens, names)
    carried = () if is_continuation(tokens) or own_names else previous.names
    return topic + carried


# Pronouns that stand for one person or thing named before, and what replaces them
# ("his" -> "Cho Hyun's").
_SINGULAR = {"he": "", "she": "", "him": "", "it": "", "his": "'s", "its": "'s", "her": None}
_WORD_SPAN = re.compile(r"[^\W_][\w'\u2019-]*")


def subject_of(question: str, names: frozenset[str]) -> str:
    """The one name a question gives (a run of words its writer capitalized after the
    first, or that the knowledge writes as names), or "" when it gives none or several."""
    runs: list[list[str]] = []
    last = -2
    for number, found in enumerate(_WORD_SPAN.finditer(question)):
        word = found.group()
        named = (number > 0 and word[0].isupper()) or word.casefold() in names
        if named and word.casefold() not in textmod.STOPWORDS:
            if number == last + 1:
                runs[-1].append(word)
            else:
                runs.append([word])
            last = number
    distinct = {" ".join(run) for run in runs}
    return distinct.pop() if len(distinct) == 1 else ""


def resolve(question: str, subject: str) -> str:
    """``question`` with its first singular pronoun replaced by ``subject`` ("when did he
    take office?" -> "when did Cho Hyun take office?"), or "" when it has none."""
    if not subject:
        return ""
    for found in _WORD_SPAN.finditer(question):
        word = found.group().casefold()
        if word in _SINGULAR:
            ending = _SINGULAR[word]
            if ending is None:  # "her": possessive before a word ("her company"), else the person
                ending = "'s" if re.match(r"\s+[^\W\d_]", question[found.end() :]) else ""
            return f"{question[: found.start()]}{subject}{ending}{question[found.end() :]}"
    return ""


def names_in(text: str) -> tuple[str, ...]:
    """The names a sentence mentions (capitalized words after the first), each once."""
    return tuple(dict.fromkeys(textmod.capitalized(text)))


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
        """Answer ``question`` as the next turn of conversation ``key``.

        The question is analysed once, with what it carries over when it is a follow-up;
        only when that reading finds no answer is it also tried on its own.
        """
        now = time.monotonic() if now is None else now
        matcher = self.matcher
        question = question[: matcher.max_question_chars]  # bounds the work, as the matcher does
        tokens = textmod.tokens(question)
        kind = small_talk([token.word for token in tokens])
        if kind is not None:
            return Answer(question=question, kind=kind, confidence=0.0, facts=[], candidates=[], suggestions=[])
        conversation = self._conversation(key, now)
        previous = conversation.turns[-1] if conversation.turns else None
        # "Who wrote this?": the article the conversation is about, or the only one.
        about = matcher.about_the_article(question, tokens, previous.article_id if previous else None)
        if about is not None:
            return about
        asked = tokens
        subject = subject_of(question, matcher.index.names)
        if is_continuation(tokens) and (previous is None or not previous.fact_ids):
            # "And then?" after nothing, or after a question the article could not answer.
            answer = Answer(question=question, kind="abstain", confidence=0.0, facts=[], candidates=[], suggestions=[])
        elif previous is not None and is_follow_up(question, tokens, matcher.index.names):
            carried = carried_words(question, tokens, previous, matcher.index.names)
            query = matcher.analyse(question, tokens, carried)
            query.leans_on = previous.question
            # The reader reads "he" as the one the conversation is about, when it knows:
            # the one the earlier question named. (Also asking that the earlier answer
            # name them too was measured: news-dev's follow-ups 16 of 36 right against 18.)
            query.resolved = resolve(question, previous.subject)
            subject = subject or previous.subject  # "why?" goes on about the same one
            asked = query.tokens  # the topic carries on to the next turn either way
            # "And then?" asks for more: facts already quoted in this conversation are
            # passed over. Other follow-ups may well want the same fact again ("why?").
            given = frozenset(turn.fact_ids[0] for turn in conversation.turns if turn.fact_ids)
            answer = matcher.decide(query, exclude=given if is_continuation(tokens) else frozenset())
            if not answer.answered:
                alone = matcher.analyse(question, tokens)
                # Matched on its own words, but the reader still knows whom "he" means.
                alone.leans_on, alone.resolved = query.leans_on, query.resolved
                answer = matcher.decide(alone)
        else:
            answer = matcher.decide(matcher.analyse(question, tokens))
        facts = tuple(item.fact.id for item in answer.facts)
        names = names_in(answer.facts[0].fact.text) if answer.facts else ()
        article_id = answer.facts[0].fact.article_id if answer.facts else None
        conversation.turns.append(Turn(question, asked, facts, now, names, article_id, subject))
        while len(conversation.turns) > self.turns:
            conversation.turns.popleft()
        return answer
