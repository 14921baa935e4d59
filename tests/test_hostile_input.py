"""Hostile and broken input: the matcher and the renderers never raise and stay within limits."""

from __future__ import annotations

import functools
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.discord_app import embeds
from bot.discord_app.bot import QABot
from bot.discord_app.cogs.qa.replies import reply_for
from bot.engine.knowledge import Knowledge
from bot.engine.matcher import Matcher
from bot.render import render_text

HOSTILE = [
    "",
    "   \t  ",
    "x" * 100_000,
    "Who is Ishiba?" * 5000,
    "\x00\x01\x02 Who\x00 is Cho Hyun?",
    "\u200b\u200bWho\u200d is \u202eCho Hyun\u202c?",
    "\U0001f600\U0001f600\U0001f525",
    "石破首相は誰ですか",
    "이재명 대통령은 누구입니까?",
    "```python\nprint('who is ishiba')\n```",
    "**Who** is _Cho Hyun_? > quote",
    "@everyone @here <@&123> <@456> who is Iwaya?",
    "https://example.com/?q=who+is+ishiba",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "?" * 3000,
]


@pytest.mark.parametrize("question", HOSTILE)
def test_hostile_questions_get_a_clean_reply(matcher: Matcher, seed: Knowledge, question: str) -> None:
    started = time.perf_counter()
    answer = matcher.answer(question)
    elapsed = time.perf_counter() - started
    assert answer.kind in ("answer", "abstain", "greeting", "help", "empty")
    text = render_text(answer, seed)
    assert text
    assert elapsed < 2.0  # a generous bound; the point is no runaway work on long input
    if not question.strip():
        assert answer.kind == "empty"


def test_mentions_in_questions_do_not_change_the_answer(matcher: Matcher) -> None:
    plain = matcher.answer("who is Iwaya?")
    noisy = matcher.answer("@everyone @here <@&123> <@456> who is Iwaya?")
    assert plain.answered and noisy.answered
    assert plain.facts[0].fact.id == noisy.facts[0].fact.id


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_matcher_never_raises_and_is_deterministic(matcher: Matcher, seed: Knowledge, question: str) -> None:
    first = matcher.answer(question)
    assert first == matcher.answer(question)
    assert render_text(first, seed) == render_text(matcher.answer(question), seed)
    assert 0.0 <= first.confidence <= 1.0
    assert len(first.facts) <= 3 and len(first.suggestions) <= 3
    assert all(len(s) <= 100 for s in first.suggestions)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=6000))
def test_discord_replies_stay_within_limits(discord_bot: QABot, question: str) -> None:
    answer = discord_bot.matcher.answer(question)
    reply = reply_for(answer, discord_bot.knowledge)
    if reply.content is not None:
        assert len(reply.content) <= embeds.MESSAGE_LIMIT
    if reply.embed is not None:
        embed = reply.embed
        assert len(embed) <= embeds.EMBED_TOTAL_LIMIT
        assert len(embed.title or "") <= embeds.TITLE_LIMIT
        assert len(embed.description or "") <= embeds.DESCRIPTION_LIMIT
    for item in reply.view.children if reply.view is not None else []:
        assert len(getattr(item, "custom_id", None) or "") <= 100
        assert len(getattr(item, "label", None) or "") <= 80
    choices = discord_bot.matcher.completions(question, embeds.CHOICES)
    assert len(choices) <= embeds.CHOICES and all(len(c) <= embeds.CHOICE_LIMIT for c in choices)


def test_an_article_with_long_runs_of_spaces_is_read_without_runaway_work() -> None:
    from bot.engine.index import FactIndex
    from bot.engine.parsing import parse_article

    gap = " " * 20_000
    text = (
        f"Council approves budget{gap}2 hours ago{gap}By Ann Keller\n\n"
        f"Published{gap}| 3 June 2025\n\n"
        + "The council met on Monday.\n\n"
        * 8  # past the top lines, which are read part by part
        + f"The work took 5{gap}x years, and the council met since{gap}Monday.\n\n"
        f"Sign up for our newsletter{gap}today.\n\n"
        f"\u00a9 2025{gap}Marlow Gazette. All rights reserved.\n"
    )
    started = time.perf_counter()
    article, facts = parse_article("budget", text)
    FactIndex.build(Knowledge(articles={article.id: article}, facts=tuple(facts), aliases=()))
    assert time.perf_counter() - started < 5.0  # generous: the point is no quadratic pattern
    assert article.title == "Council approves budget" and facts


_PIECES = st.sampled_from(
    [
        "Council approves budget",
        "By Ann Keller, Business reporter",
        "Published 3 June 2025 | Updated 4 June 2025",
        "2 hours ago",
        "\u00a9 2025 Marlow Gazette. All rights reserved.",
        "Image caption, Workers on the bridge",
        "Sign up for our newsletter.",
        "TOKYO (Kyodo) \u2014 The talks began on Monday.",
        "The work took 5 years, the council said.",
        '"It is done," she said.',
        "Share",
        "   ",
        "\t",
        "\n",
        "\n\n",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_PIECES, st.text(max_size=40)), max_size=30).map("".join))
@example("2 hours ago   \tCouncil approves budget")  # spaces then a tab: one gap, not two
def test_any_text_is_read_into_facts_in_order_within_the_text(text: str) -> None:
    from bot.engine.parsing import parse_article

    article, facts = parse_article("story", text)
    stored = article.text
    ends = [0]
    for fact in facts:
        assert 0 <= fact.start < fact.end <= len(stored)
        assert fact.text == stored[fact.start : fact.end] and fact.text.strip()
        assert fact.start >= ends[-1]  # in reading order, never overlapping
        ends.append(fact.end)
    assert len({fact.id for fact in facts}) == len(facts)
    for part in article.set_aside:
        assert 0 <= part.start < part.end <= len(stored)
        assert not any(fact.start < part.end and part.start < fact.end for fact in facts)


_TWO = ("copyright-footer", "gallery-share")
_ASKING = st.sampled_from(
    [
        "who wrote the",
        "when was the",
        "which outlet published the",
        "article",
        "story",
        "piece",
        "about",
        "on",
        "ferry",
        "flood",
        "this",
        "it",
        "?",
        "the",
        "published",
        "wrote",
        "byline",
        "headline",
    ]
)


@functools.cache
def _two_articles() -> Matcher:
    """A matcher over two articles of the reading fixtures, built once for every example."""
    from pathlib import Path

    from bot.engine.parsing import parse_article

    folder = Path(__file__).resolve().parent / "fixtures" / "reading"
    parsed = [parse_article(name, (folder / f"{name}.txt").read_text(encoding="utf-8")) for name in _TWO]
    return Matcher(
        Knowledge(
            articles={article.id: article for article, _ in parsed},
            facts=tuple(fact for _, facts in parsed for fact in facts),
            aliases=(),
        )
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_ASKING, st.text(max_size=12)), max_size=12).map(" ".join))
def test_questions_about_one_of_several_articles_never_raise(question: str) -> None:
    from bot.engine.conversation import Conversations

    matcher = _two_articles()
    knowledge = matcher.knowledge
    talk = Conversations(matcher)
    for _ in range(2):  # on its own, then as a follow-up
        answer = talk.answer("fuzz", question)
        assert answer.kind in ("answer", "abstain", "greeting", "help", "empty", "thanks", "goodbye", "meta")
        assert render_text(answer, knowledge)
