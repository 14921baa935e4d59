"""Follow-up questions in a conversation, and the bounds on conversation memory."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.engine.conversation import Conversations, is_follow_up
from bot.engine.matcher import Matcher
from tests.conftest import ROOT, SEED_ID


def top(conversations: Conversations, question: str, key: str = "k") -> str | None:
    answer = conversations.answer(key, question, now=0.0)
    return answer.facts[0].fact.id.split(":")[1] if answer.answered else None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("why?", True),
        ("who will he meet there?", True),
        ("and after that?", True),
        ("what about Russia?", True),
        ("which countries are involved?", True),
        ("Who wrote Hamlet?", False),
        ("What is the capital of France?", False),
        ("When did Cho Hyun take office?", False),
    ],
)
def test_follow_up_detection(question: str, expected: bool) -> None:
    assert is_follow_up(question) is expected


def test_pronouns_resolve_against_the_previous_turn(matcher: Matcher) -> None:
    conversations = Conversations(matcher)
    assert top(conversations, "Tell me about Cho Hyun") == "p10.s1"
    # Alone, "he" would be Lee (who took office in June); here it is Cho Hyun.
    assert top(conversations, "when did he take office?") == "p10.s1"


def test_what_about_swaps_the_topic(eager: Matcher) -> None:
    conversations = Conversations(eager)
    assert top(conversations, "Will the leaders discuss North Korea's missile program?") == "p4.s1"
    assert top(conversations, "what about Russia?") == "p5.s1"


def test_a_new_topic_does_not_drag_the_old_one_in(matcher: Matcher) -> None:
    conversations = Conversations(matcher)
    assert top(conversations, "Who is Takeshi Iwaya?") == "p10.s1"
    assert top(conversations, "Who wrote Hamlet?") is None
    assert top(conversations, "Will Lee meet Donald Trump?") == "p6.s1"


def test_conversations_are_separate(matcher: Matcher) -> None:
    conversations = Conversations(matcher)
    assert top(conversations, "Tell me about Cho Hyun", key="a") == "p10.s1"
    assert top(conversations, "when did he take office?", key="b") != "p10.s1"


def test_memory_is_bounded_by_turns_time_and_count(matcher: Matcher) -> None:
    conversations = Conversations(matcher, turns=2, ttl=60.0, limit=3)
    for number in range(5):
        conversations.answer(f"user{number}", "Who is Cho Hyun?", now=float(number))
    assert len(conversations) == 3  # the least recently used went first
    for number in range(4):
        conversations.answer("user4", "Who is Cho Hyun?", now=10.0 + number)
    assert len(conversations._held["user4"].turns) == 2
    # After the time to live, the old topic is gone.
    conversations.answer("user4", "Tell me about Cho Hyun", now=20.0)
    after = conversations.answer("user4", "when did he take office?", now=200.0)
    assert after.facts[0].fact.id != f"{SEED_ID}:p10.s1"


def test_ask_with_a_conversation_id_treats_questions_as_turns() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "ask",
            "--json",
            "--conversation",
            "c1",
            "Tell me about Cho Hyun",
            "when did he take office?",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["facts"][0]["id"] for a in answers] == [f"{SEED_ID}:p10.s1", f"{SEED_ID}:p10.s1"]
    assert answers[1]["question"] == "when did he take office?"


def test_eval_scores_the_conversation_benchmark() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "eval", "benchmarks/conversations.jsonl"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "25 conversations, 28 follow-up turns" in result.stdout
    assert "follow-up accuracy" in result.stdout


@pytest.mark.parametrize(
    ("question", "expected"),
    [("and after that?", True), ("what else?", True), ("and then?", True), ("and who did he hold talks with?", False)],
)
def test_continuations_only_ask_for_more(question: str, expected: bool) -> None:
    from bot.engine.conversation import is_continuation
    from bot.engine.text import tokens

    assert is_continuation(tokens(question)) is expected


def test_and_then_passes_over_the_fact_already_quoted(eager: Matcher) -> None:
    conversations = Conversations(eager)
    assert top(conversations, "Will Lee visit Japan this month?") == "p2.s1"
    more = top(conversations, "and after that?")
    assert more is not None and more != "p2.s1"
    assert top(conversations, "and after that?") not in ("p2.s1", more)


def test_and_then_after_an_unanswered_question_abstains(matcher: Matcher) -> None:
    conversations = Conversations(matcher)
    assert top(conversations, "Who wrote Hamlet?") is None
    assert top(conversations, "and after that?") is None
    assert top(Conversations(matcher), "and then?") is None


def test_why_quotes_the_reason_and_not_the_photo_caption(eager: Matcher) -> None:
    conversations = Conversations(eager)
    conversations.answer("k", "Will Lee visit Japan this month?")
    answer = conversations.answer("k", "why?")
    assert answer.answered
    assert answer.facts[0].fact.id == f"{SEED_ID}:p2.s1"  # "... for talks with Prime Minister Shigeru Ishiba"
    assert all(item.fact.kind != "caption" for item in answer.facts)


def test_a_new_topic_in_lower_case_starts_a_new_topic(matcher: Matcher) -> None:
    talk = Conversations(matcher)
    careful = talk.answer("a", "Who is the Japanese foreign minister?")
    assert careful.answered
    # "korea", "yoon" are names in the article, though typed in lower case: a topic of their own.
    lower = talk.answer("a", "who is yoon suk yeol")
    capital = Conversations(matcher)
    capital.answer("b", "Who is the Japanese foreign minister?")
    upper = capital.answer("b", "Who is Yoon Suk Yeol?")
    assert lower.answered == upper.answered
    assert [item.fact.id for item in lower.facts] == [item.fact.id for item in upper.facts]
    assert is_follow_up("why?", names=matcher.index.names)
    assert not is_follow_up("is north korea mentioned", names=matcher.index.names)
    assert is_follow_up("is north korea mentioned")  # without the knowledge's names it would lean back


def test_a_pronoun_is_read_as_the_one_the_conversation_is_about() -> None:
    from bot.engine.conversation import resolve, subject_of

    names = frozenset({"cho", "hyun", "lee"})
    assert subject_of("Tell me about Cho Hyun", names) == "Cho Hyun"
    assert subject_of("tell me about cho hyun", names) == "cho hyun"
    assert subject_of("What did Ishiba and Lee agree?", names) == ""  # two: "he" would be a guess
    assert resolve("when did he take office?", "Cho Hyun") == "when did Cho Hyun take office?"
    assert resolve("what did her company say", "Ann Lowe") == "what did Ann Lowe's company say"
    assert resolve("why?", "Ann Lowe") == ""
