"""The benchmark harness: pooled scoring, conversations in the span format, leave-one-out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.evaluation.harness import (
    EvalRecord,
    Prediction,
    _correct,
    matchers,
    predict,
    score,
    score_turns,
)
from tests.conftest import ROOT

HARBOR = (
    "The harbor of Marlow reopened on Monday after a storm closed it for a week.\n\n"
    "Mayor Ann Keller said the repairs cost 2 million pounds.\n\n"
    "She thanked the crews who worked through the weekend."
)
BRIDGE = (
    "The Tamsin bridge will close in March for six weeks of repainting.\n\n"
    "Engineer Raj Patel said the old paint had started to flake.\n\n"
    "He expects traffic to use the ferry while the work lasts."
)


def record(
    record_id: str, context: str, questions: list[tuple[str, str | None]], turns: list[tuple[str, str | None]]
) -> dict[str, object]:
    def answers(text: str | None) -> list[dict[str, object]]:
        return [] if text is None else [{"text": text, "start": context.index(text)}]

    return {
        "id": record_id,
        "context": context,
        "questions": [
            {"id": f"{record_id}-q{n}", "question": q, "answerable": a is not None, "answers": answers(a)}
            for n, (q, a) in enumerate(questions)
        ],
        "conversations": [
            {
                "id": f"{record_id}-c1",
                "turns": [{"question": q, "answerable": a is not None, "answers": answers(a)} for q, a in turns],
            }
        ],
    }


RECORDS = [
    record(
        "harbor",
        HARBOR,
        [("When did the harbor reopen?", "reopened on Monday"), ("Who won the match?", None)],
        [
            ("Who is the mayor of Marlow?", "Mayor Ann Keller"),
            ("what did she say the repairs cost?", "2 million pounds"),
        ],
    ),
    record(
        "bridge",
        BRIDGE,
        [("When will the bridge close?", "will close in March"), ("How tall is the bridge?", None)],
        [("Who is the engineer?", "Engineer Raj Patel"), ("what does he expect traffic to use?", "use the ferry")],
    ),
]


def test_a_pooled_answer_counts_only_from_the_questions_own_article() -> None:
    records = [EvalRecord.model_validate(item) for item in RECORDS]
    question = records[0].questions[0]
    start = HARBOR.index("reopened on Monday")
    inside = {"start": start, "end": start + 20, "text": "x", "score": 1.0}

    def top_fact_from(article: str) -> Prediction:
        facts = [{**inside, "article": article}]
        return Prediction(article_id="harbor", question_id=question.id, answered=True, confidence=1, facts=facts)

    assert _correct(top_fact_from("harbor"), question) and not _correct(top_fact_from("bridge"), question)
    predictions, latencies = predict(records, (), pooled=True)
    assert score(records, predictions, latencies).ranking_top1 == 1.0


def test_conversations_of_the_span_format_are_scored_turn_by_turn() -> None:
    records = [EvalRecord.model_validate(item) for item in RECORDS]
    for pooled in (False, True):
        first_right, first, follow_right, follow = score_turns(records, matchers(records, (), pooled=pooled))
        assert (first, follow) == (2, 2)
        assert first_right >= 1
        assert follow_right == 2  # "she" and "he" carry the topic over


def test_eval_prints_pooled_and_leave_one_out_figures(tmp_path: Path) -> None:
    data = tmp_path / "news.jsonl"
    data.write_text("\n".join(json.dumps(item) for item in RECORDS) + "\n", encoding="utf-8")

    def evaluate(*extra: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "eval", str(data), *extra], cwd=ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "news.jsonl (pooled)" in evaluate("--pooled")
    assert "follow-up turns right  1.000 (2 turns)" in evaluate()  # and the first turns are counted apart
    train = str(ROOT / "benchmarks" / "data" / "squad2-train.jsonl")
    left_out = evaluate("--leave-one-out", "--train", train)
    assert "each article left out in turn, hand ranking" in left_out and "ranking top-1" in left_out
    learned = evaluate("--leave-one-out", "--train", train, "--ranking", "learned")
    assert "each article left out in turn, learned ranking" in learned and "ranking top-1" in learned
    refused = subprocess.run(
        [sys.executable, "-m", "bot", "eval", str(data), "--leave-one-out"], cwd=ROOT, capture_output=True, text=True
    )
    assert refused.returncode == 2 and "--train" in refused.stderr
