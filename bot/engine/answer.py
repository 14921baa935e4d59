"""The answer model: what the matcher decided about one question, ready to render."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.engine.knowledge import Fact

# answer: facts answer the question. abstain: the knowledge does not say.
# greeting, help, thanks, goodbye: small talk, each with a reply of its own.
# empty: nothing was asked.
# meta: the article's own metadata answers ("who wrote this?").
AnswerKind = Literal["answer", "abstain", "meta", "greeting", "help", "thanks", "goodbye", "empty"]


class MetaValue(BaseModel):
    """What an article says of itself, answering a question about the article."""

    model_config = ConfigDict(frozen=True)

    field: str  # author, published, outlet, title or dateline
    label: str  # how to name it to a reader ("byline")
    value: str
    article_id: str


class ScoredFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    fact: Fact
    score: float


class Answer(BaseModel):
    model_config = ConfigDict(frozen=True)

    question: str
    kind: AnswerKind
    confidence: float
    # The answering facts, best first; empty unless kind == "answer".
    facts: list[ScoredFact]
    # Ranked candidates whatever the decision (for evaluation and suggestions).
    candidates: list[ScoredFact]
    # Close questions the knowledge can answer, offered when abstaining, and the ids
    # of the facts they come from (same order).
    suggestions: list[str]
    suggestion_ids: list[str] = []
    meta: MetaValue | None = None

    @property
    def answered(self) -> bool:
        return self.kind == "answer"

    def to_json(self) -> dict[str, object]:
        """The ``ask --json`` record."""
        return {
            "question": self.question,
            "answered": self.answered,
            "kind": self.kind,
            "confidence": round(self.confidence, 4),
            "facts": [
                {
                    "id": item.fact.id,
                    "article": item.fact.article_id,
                    "text": item.fact.text,
                    "start": item.fact.start,
                    "end": item.fact.end,
                    "score": round(item.score, 4),
                }
                for item in self.facts
            ],
            "suggestions": self.suggestions,
            **({"meta": self.meta.model_dump()} if self.meta is not None else {}),
        }
