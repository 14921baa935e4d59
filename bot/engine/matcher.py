"""The matcher: a question in, an :class:`Answer` out (quote, abstain, or small talk).

It wires the engine's steps for one knowledge base: ``query`` analyses the question,
``rank`` orders the candidate facts, the ``reader`` (when there is one) reads the first
few beside the question and puts them in a new order, ``confidence`` says how likely the
best one answers. At or above the threshold it answers, adding further facts that score close to
the best; below it, it abstains and offers the nearest facts as suggestions. It also
recognises greetings and requests for help, and completes partly typed questions.
"""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz import fuzz, process

from bot.engine import meta
from bot.engine import text as textmod
from bot.engine.answer import Answer, AnswerKind, ScoredFact
from bot.engine.confidence import Evidence, Model, default_model
from bot.engine.index import FactIndex
from bot.engine.knowledge import Fact, Knowledge
from bot.engine.query import Analyser, Query
from bot.engine.rank import Ranked, RankModel, rank, rank_model_for
from bot.engine.reader import READER_ALONE, Reader, passage, reader_question

# Ranked facts an answer lists whatever its decision (for evaluation and `ask --json`).
_CANDIDATES = 5
# Suggestions: the nearest facts' openings, when they share this much of the question.
_SUGGESTION_CHARS = 100
_SUGGESTION_COVERAGE = 0.25
_COMPLETION_CUTOFF = 60.0
# Facts beyond the first are quoted only when they score this close to the best one.
_MULTI_RATIO = 0.85
# ... or, when the reader read them, when its logit is this close to the best one's.
_MULTI_LOGIT_GAP = 1.0

_GREETINGS = frozenset("hi hello hey hiya howdy greetings yo morning evening afternoon ok okay good day".split())
_THANKS = frozenset("thanks thank thx ty tnx thankyou cheers ta appreciate appreciated".split())
_GOODBYES = frozenset("bye goodbye byebye cya ya later farewell night goodnight ciao".split())
_HELP = frozenset("help commands usage how work start menu".split())
_SMALL = (
    _GREETINGS
    | _THANKS
    | _GOODBYES
    | textmod.STOPWORDS
    | frozenset("so much lot see great nice cool awesome perfect".split())
)


def small_talk(words: list[str]) -> AnswerKind | None:
    """The kind of small talk a question's words are ("empty", "greeting", "thanks",
    "goodbye" or "help"), or None for a question."""
    if not words:
        return "empty"
    found = set(words)
    if found <= _SMALL:
        if found & _GOODBYES:
            return "goodbye"
        if found & _THANKS:
            return "thanks"
        if found & _GREETINGS:
            return "greeting"
    if found & _HELP and found <= _HELP | _SMALL | {"can", "do", "you"}:
        return "help"
    return None


class Matcher:
    """Answers questions from one knowledge base."""

    def __init__(
        self,
        knowledge: Knowledge,
        *,
        threshold: float | None = None,
        max_facts: int = 3,
        max_suggestions: int = 3,
        model: Model | None = None,
        rank_model: RankModel | None = None,
        max_question_chars: int = 500,
        index: FactIndex | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.reader = reader
        self.model = model or default_model(reader=reader is not None)
        self.read_order = self.model.read_order or READER_ALONE
        self.rank_model = rank_model or rank_model_for(self.model.ranking)
        self.threshold = self.model.threshold if threshold is None else threshold
        self.max_facts = max_facts
        self.max_suggestions = max_suggestions
        self.max_question_chars = max_question_chars
        self.index = index if index is not None else FactIndex.build(knowledge)
        self.facts: Sequence[Fact] = self.index.facts
        self.analyser = Analyser(self.index)
        self.evidence = Evidence(self.index)

    def analyse(self, question: str, tokens: list[textmod.Token] | None = None, carried: tuple[str, ...] = ()) -> Query:
        return self.analyser.analyse(question, tokens, carried)

    def rank(self, query: Query) -> list[Ranked]:
        return rank(self.index, query, self.rank_model) if query.terms else []

    def passage(self, number: int) -> str:
        """What the reader reads of fact ``number``: the fact, its article's headline and
        the sentence before it in the same article."""
        fact = self.facts[number]
        before = self.facts[number - 1] if number > 0 else None
        previous = before.text if before is not None and before.article_id == fact.article_id else ""
        return passage(fact.text, self.knowledge.articles[fact.article_id].title, previous)

    def read(self, query: Query, ranked: list[Ranked]) -> tuple[list[Ranked], list[float]]:
        """The lexical order's first candidates read by the reader and put in the read
        order, the rest after them; and the reader's logits for the first ones, in the new
        order. Without a reader, ``ranked`` as it is and no logits."""
        if self.reader is None or not ranked:
            return ranked, []
        top = ranked[: self.read_order.candidates]
        logits = self.reader.scores(reader_question(query), [self.passage(row.fact_index) for row in top])
        scores = self.read_order.scores(logits, [row.score for row in top])
        order = sorted(range(len(top)), key=lambda place: -scores[place])
        return [top[place] for place in order] + ranked[len(top) :], [float(logits[place]) for place in order]

    def answer(self, question: str) -> Answer:
        """Answer one question on its own."""
        question = question[: self.max_question_chars]  # bounds the work, whatever the input
        tokens = textmod.tokens(question)
        kind = small_talk([token.word for token in tokens])
        if kind is not None:
            return _reply(question, kind)
        about = self.about_the_article(question, tokens)
        return about if about is not None else self.decide(self.analyse(question, tokens))

    def about_the_article(
        self, question: str, tokens: list[textmod.Token], article_id: str | None = None
    ) -> Answer | None:
        """The answer to a question about the article itself ("who wrote this?"), or None
        when it is not one. ``article_id`` is the article meant (the one a conversation is
        about); by default the only one the knowledge holds."""
        asked = meta.asked_field([token.word for token in tokens])
        if asked is None:
            return None
        field, topic = asked
        if topic:
            # "Who wrote the ferry story?": the article whose facts best hold its subject.
            ranked = self.rank(self.analyse(" ".join(topic)))
            if not ranked:
                return None  # no article is about that: an ordinary question
            article_id = self.facts[ranked[0].fact_index].article_id
        elif article_id is None:
            if len(self.knowledge.articles) != 1:
                return None  # which article "this" is, only a conversation can tell
            article_id = next(iter(self.knowledge.articles))
        article = self.knowledge.articles[article_id]
        found = meta.value(article, field)
        if not found:
            return Answer(question=question, kind="abstain", confidence=0.0, facts=[], candidates=[], suggestions=[])
        value = meta.MetaValue(field=field, label=meta.LABELS[field], value=found, article_id=article.id)
        return Answer(
            question=question, kind="meta", confidence=1.0, facts=[], candidates=[], suggestions=[], meta=value
        )

    def confidence(self, query: Query, ranked: list[Ranked], position: int, logits: list[float]) -> float:
        return self.model.probability(self.evidence.features(query, ranked, position, logits))

    def decide(self, query: Query, *, exclude: frozenset[str] = frozenset()) -> Answer:
        """Answer ``query``, or abstain; facts whose ids are in ``exclude`` are passed over."""
        question = query.question
        ranked = self.rank(query)
        if exclude:
            ranked = [row for row in ranked if self.facts[row.fact_index].id not in exclude]
        ranked, logits = self.read(query, ranked)
        if not ranked:
            return Answer(question=question, kind="abstain", confidence=0.0, facts=[], candidates=[], suggestions=[])
        candidates = [
            # Built from known-good parts, without pydantic's validation: this is per question.
            ScoredFact.model_construct(fact=self.facts[row.fact_index], score=round(max(0.0, row.score), 4))
            for row in ranked[:_CANDIDATES]
        ]
        best_score, best_index = ranked[0].score, ranked[0].fact_index
        features = self.evidence.features(query, ranked, 0, logits)
        confidence = self.model.probability(features)
        # Two checks on top of the model (each also one of its features). The first
        # abstains on more of squad2-dev's unanswerable questions than it loses answerable
        # ones (3 to 1); the second changes nothing on squad2-dev or news-dev and keeps
        # "What did X say?" from quoting what someone else said.
        if features.unknown_ask or features.speaker_missing:
            confidence = min(confidence, self.threshold * 0.99)
        if confidence < self.threshold:
            near = [row.fact_index for row in ranked[: self.max_suggestions] if row.coverage >= _SUGGESTION_COVERAGE]
            return Answer(
                question=question,
                kind="abstain",
                confidence=confidence,
                facts=[],
                candidates=candidates,
                suggestions=[textmod.clip(self.facts[index].text, _SUGGESTION_CHARS) for index in near],
                suggestion_ids=[self.facts[index].id for index in near],
            )
        chosen = [ScoredFact(fact=self.facts[best_index], score=confidence)]
        for position, (score, _, index, _) in enumerate(ranked[1:], start=1):
            if len(chosen) >= self.max_facts:
                break
            if logits:
                # The reader read it as answering nearly as strongly as the best.
                if position >= len(logits) or logits[position] < logits[0] - _MULTI_LOGIT_GAP:
                    break
            elif score < best_score * _MULTI_RATIO:
                break
            if self.facts[index].kind == "caption":
                continue  # a photo caption answers when it is the best fact, not as an extra
            if any(item.fact.norm == self.facts[index].norm for item in chosen):
                continue  # the same sentence in a copy of the article: quoted once
            other = self.confidence(query, ranked, position, logits)
            if other >= self.threshold:
                chosen.append(ScoredFact(fact=self.facts[index], score=other))
        return Answer(
            question=question, kind="answer", confidence=confidence, facts=chosen, candidates=candidates, suggestions=[]
        )

    def answer_fact(self, fact_id: str) -> Answer | None:
        """An answer quoting one known fact (a suggestion the user picked), or None."""
        fact = self.knowledge.fact(fact_id)
        if fact is None:
            return None
        item = ScoredFact(fact=fact, score=1.0)
        return Answer(
            question=fact.text, kind="answer", confidence=1.0, facts=[item], candidates=[item], suggestions=[]
        )

    def completions(self, text: str, limit: int = 25) -> list[str]:
        """Openings of the facts that best fit partly typed text, for autocomplete."""
        text = text[: self.max_question_chars]
        indices: list[int] = []
        if text.strip():
            indices = [row.fact_index for row in self.rank(self.analyse(text))]
            if not indices:
                # A word still being typed: compare the fragment with each fact's text.
                matches = process.extract(
                    textmod.normalize(text),
                    {index: fact.norm for index, fact in enumerate(self.facts)},
                    scorer=fuzz.partial_ratio,
                    score_cutoff=_COMPLETION_CUTOFF,
                    limit=limit,
                )
                indices = [index for _, _, index in matches]
        else:
            indices = list(range(len(self.facts)))
        return [textmod.clip(self.facts[index].text, _SUGGESTION_CHARS) for index in indices[:limit]]


def _reply(question: str, kind: AnswerKind) -> Answer:
    return Answer(question=question, kind=kind, confidence=0.0, facts=[], candidates=[], suggestions=[])
