"""The benchmark harness behind ``python -m bot eval``.

Reads the JSON Lines format of ``benchmarks/data/README.md``: one record per article with
its raw ``context`` and questions. Each context is parsed by the same code as a file in
``knowledge/``, each question is answered without looking at its answers, and, when
answers are present, the predictions are scored afterwards.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.engine import lexicon
from bot.engine.confidence import Model
from bot.engine.knowledge import AliasGroup, Fact, Knowledge, KnowledgeError
from bot.engine.matcher import Matcher
from bot.engine.parsing import parse_article
from bot.engine.rank import RankModel
from bot.engine.reader import Reader
from bot.evaluation.metrics import overlaps, percentile


class EvalAnswer(BaseModel):
    text: str
    start: int

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.start + len(self.text)


class EvalQuestion(BaseModel):
    id: str
    question: str
    answerable: bool | None = None
    answers: list[EvalAnswer] = []


class SpanTurn(BaseModel):
    question: str
    answerable: bool | None = None
    answers: list[EvalAnswer] = []


class SpanConversation(BaseModel):
    """Turns asked in order, in one conversation, about their record's article."""

    id: str
    turns: list[SpanTurn]


class EvalRecord(BaseModel):
    id: str
    title: str = ""
    source: str = ""
    context: str
    questions: list[EvalQuestion]
    conversations: list[SpanConversation] = []


class Prediction(BaseModel):
    article_id: str
    question_id: str
    answered: bool
    confidence: float
    facts: list[dict[str, object]]


class Scores(BaseModel):
    questions: int
    answerable: int
    unanswerable: int
    answerable_correct: float | None
    unanswerable_abstained: float | None
    balanced: float | None
    ranking_top1: float | None
    latency_p50_ms: float
    latency_p99_ms: float


class EvalTurn(BaseModel):
    question: str
    answers: list[str] = []  # fact ids that answer; empty: the right response is to abstain


class ConversationRecord(BaseModel):
    id: str
    turns: list[EvalTurn]


def is_conversation_file(path: Path) -> bool:
    """Whether ``path`` holds conversations (records with "turns") rather than articles."""
    try:
        with path.open(encoding="utf-8") as source:
            first = next((line for line in source if line.strip()), "")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{path.resolve()}: cannot be read ({exc})") from None
    return '"turns"' in first and '"context"' not in first


def read_conversations(path: Path) -> list[ConversationRecord]:
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                records.append(ConversationRecord.model_validate_json(line))
            except ValidationError as exc:
                raise KnowledgeError(
                    f"{path}:{number}: not a conversation record ({exc.error_count()} problem(s))"
                ) from None
    return records


def score_conversations(records: list[ConversationRecord], matcher: Matcher) -> dict[str, float]:
    """Accuracy of first turns and of follow-up turns, each conversation from a clean slate."""
    from bot.engine.conversation import Conversations

    right = {"first": 0, "follow-up": 0}
    total = {"first": 0, "follow-up": 0}
    for record in records:
        conversations = Conversations(matcher)
        for number, turn in enumerate(record.turns):
            answer = conversations.answer(record.id, turn.question)
            kind = "first" if number == 0 else "follow-up"
            total[kind] += 1
            if turn.answers:
                right[kind] += answer.answered and answer.facts[0].fact.id in turn.answers
            else:
                right[kind] += not answer.answered
    return {
        "conversations": len(records),
        "first_turns": total["first"],
        "follow_up_turns": total["follow-up"],
        "first_turn_accuracy": right["first"] / max(1, total["first"]),
        "follow_up_accuracy": right["follow-up"] / max(1, total["follow-up"]),
    }


def format_conversation_scores(name: str, scores: dict[str, float]) -> str:
    return "\n".join(
        [
            f"{name}: {scores['conversations']:.0f} conversations, {scores['follow_up_turns']:.0f} follow-up turns",
            f"first-turn accuracy      {scores['first_turn_accuracy']:.3f}",
            f"follow-up accuracy       {scores['follow_up_accuracy']:.3f}",
        ]
    )


def read_records(path: Path) -> Iterator[EvalRecord]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{path.resolve()}: cannot be read ({exc})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield EvalRecord.model_validate_json(line)
        except ValidationError as exc:
            raise KnowledgeError(f"{path}:{number}: not a benchmark record ({exc.error_count()} problem(s))") from None


def matchers(
    records: list[EvalRecord], aliases: tuple[AliasGroup, ...], *, pooled: bool = False, **options: Any
) -> dict[str, Matcher]:
    """A matcher per record over its own article, or (``pooled``) one over all the
    records' articles together, as a knowledge folder of them all would be."""
    parsed = {record.id: parse_article(record.id, record.context) for record in records}
    if pooled:
        knowledge = Knowledge(
            articles={article.id: article for article, _ in parsed.values()},
            facts=tuple(fact for _, facts in parsed.values() for fact in facts),
            aliases=aliases,
        )
        shared = Matcher(knowledge, **options)
        return {record.id: shared for record in records}
    return {
        record_id: Matcher(Knowledge(articles={article.id: article}, facts=tuple(facts), aliases=aliases), **options)
        for record_id, (article, facts) in parsed.items()
    }


def predict(
    records: Iterable[EvalRecord],
    aliases: tuple[AliasGroup, ...],
    threshold: float | None = None,
    *,
    pooled: bool = False,
    model: Model | None = None,
    rank_model: RankModel | None = None,
    only: set[str] | None = None,
    reader: Reader | None = None,
) -> tuple[list[Prediction], list[float]]:
    """Answer every question (of the records in ``only``, when given); the answers in the
    records are never read here."""
    records = list(records)
    predictions: list[Prediction] = []
    latencies: list[float] = []
    lexicon.warm()  # latency is per question, not the one-off loading of word tables
    by_record = matchers(
        records, aliases, pooled=pooled, threshold=threshold, model=model, rank_model=rank_model, reader=reader
    )
    if reader is not None:
        reader.load()  # latency is per question, not the one-off loading of the model
    for record in records:
        if only is not None and record.id not in only:
            continue
        matcher = by_record[record.id]
        for question in record.questions:
            started = time.perf_counter()
            answer = matcher.answer(question.question)
            latencies.append((time.perf_counter() - started) * 1000.0)
            predictions.append(
                Prediction(
                    article_id=record.id,
                    question_id=question.id,
                    answered=answer.answered,
                    confidence=round(answer.confidence, 4),
                    facts=[
                        {
                            "article": item.fact.article_id,
                            "start": item.fact.start,
                            "end": item.fact.end,
                            "text": item.fact.text,
                            "score": item.score,
                        }
                        for item in answer.candidates
                    ],
                )
            )
    return predictions, latencies


def _right_fact(fact: Fact, article_id: str, answers: list[EvalAnswer]) -> bool:
    """A fact of the question's own article that overlaps one of its answer spans."""
    return fact.article_id == article_id and any(overlaps((fact.start, fact.end), answer.span) for answer in answers)


def _correct(prediction: Prediction, question: EvalQuestion) -> bool:
    if not prediction.facts:
        return False
    top = prediction.facts[0]
    if top.get("article", prediction.article_id) != prediction.article_id:
        return False  # pooled: a fact of another article never counts
    start, end = int(top["start"]), int(top["end"])  # type: ignore[call-overload]
    return any(overlaps((start, end), answer.span) for answer in question.answers)


class TurnScores(BaseModel):
    first_turns: int
    follow_up_turns: int
    first_turn_accuracy: float | None
    follow_up_accuracy: float | None


def score_turns(
    records: list[EvalRecord], by_record: dict[str, Matcher], only: set[str] | None = None
) -> tuple[int, int, int, int]:
    """(first turns right, first turns, follow-ups right, follow-ups) of the records'
    conversations, each from a clean slate. A turn is right when it is answered with a
    fact of its article overlapping an answer, or, when unanswerable, abstained on."""
    from bot.engine.conversation import Conversations

    counts = [0, 0, 0, 0]
    for record in records:
        if only is not None and record.id not in only:
            continue
        for conversation in record.conversations:
            talk = Conversations(by_record[record.id])
            for number, turn in enumerate(conversation.turns):
                answer = talk.answer(conversation.id, turn.question)
                if turn.answerable:
                    right = answer.answered and _right_fact(answer.facts[0].fact, record.id, turn.answers)
                else:
                    right = not answer.answered
                place = 0 if number == 0 else 2
                counts[place] += right
                counts[place + 1] += 1
    return counts[0], counts[1], counts[2], counts[3]


def turn_scores(counts: tuple[int, int, int, int]) -> TurnScores:
    first_right, first, follow_right, follow = counts
    return TurnScores(
        first_turns=first,
        follow_up_turns=follow,
        first_turn_accuracy=first_right / first if first else None,
        follow_up_accuracy=follow_right / follow if follow else None,
    )


def format_turn_scores(scores: TurnScores) -> str:
    def show(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    return "\n".join(
        [
            f"first turns right      {show(scores.first_turn_accuracy)} ({scores.first_turns} conversations)",
            f"follow-up turns right  {show(scores.follow_up_accuracy)} ({scores.follow_up_turns} turns)",
        ]
    )


def score(records: list[EvalRecord], predictions: list[Prediction], latencies: list[float]) -> Scores:
    by_id = {(p.article_id, p.question_id): p for p in predictions}
    answered_right = ranked_right = abstained = answerable = unanswerable = 0
    for record in records:
        for question in record.questions:
            prediction = by_id[(record.id, question.id)]
            if question.answerable:
                answerable += 1
                right = _correct(prediction, question)
                ranked_right += right
                answered_right += right and prediction.answered
            elif question.answerable is False:
                unanswerable += 1
                abstained += not prediction.answered
    ac = answered_right / answerable if answerable else None
    ua = abstained / unanswerable if unanswerable else None
    ordered = latencies or [0.0]
    return Scores(
        questions=len(predictions),
        answerable=answerable,
        unanswerable=unanswerable,
        answerable_correct=ac,
        unanswerable_abstained=ua,
        balanced=(ac + ua) / 2 if ac is not None and ua is not None else None,
        ranking_top1=ranked_right / answerable if answerable else None,
        latency_p50_ms=statistics.median(ordered),
        latency_p99_ms=percentile(ordered, 0.99),
    )


def sweep(
    records: list[EvalRecord], predictions: list[Prediction], thresholds: list[float]
) -> list[tuple[float, Scores]]:
    """Scores as if each threshold had been the setting (small talk has confidence 0)."""
    return [
        (
            threshold,
            score(
                records,
                [p.model_copy(update={"answered": bool(p.facts) and p.confidence >= threshold}) for p in predictions],
                [0.0],
            ),
        )
        for threshold in thresholds
    ]


def format_sweep(rows: list[tuple[float, Scores]]) -> str:
    lines = ["threshold  answerable-correct  unanswerable-abstained  balanced"]
    for threshold, s in rows:
        ac, ua, bal = s.answerable_correct or 0.0, s.unanswerable_abstained or 0.0, s.balanced or 0.0
        lines.append(f"{threshold:9.2f}  {ac:18.3f}  {ua:22.3f}  {bal:8.3f}")
    return "\n".join(lines)


def write_predictions(path: Path, predictions: list[Prediction]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for prediction in predictions:
            out.write(json.dumps(prediction.model_dump(), ensure_ascii=False) + "\n")


def format_scores(name: str, scores: Scores) -> str:
    def show(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    return "\n".join(
        [
            f"{name}: {scores.questions} questions "
            f"({scores.answerable} answerable, {scores.unanswerable} unanswerable)",
            f"answerable-correct     {show(scores.answerable_correct)}",
            f"unanswerable-abstained {show(scores.unanswerable_abstained)}",
            f"balanced               {show(scores.balanced)}",
            f"ranking top-1          {show(scores.ranking_top1)}",
            f"latency p50/p99        {scores.latency_p50_ms:.2f} / {scores.latency_p99_ms:.2f} ms",
        ]
    )
