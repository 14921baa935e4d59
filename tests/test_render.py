from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

from bot.chat import run_chat
from bot.engine.conversation import Conversations
from bot.engine.folder import load_knowledge
from bot.engine.knowledge import Knowledge, KnowledgeError
from bot.engine.matcher import Matcher
from bot.render import NOT_IN_ARTICLE, render_text


def test_answer_quotes_the_original_text_with_numbered_citations(seed: Knowledge, matcher: Matcher) -> None:
    answer = matcher.answer("Ishiba and Lee")
    text = render_text(answer, seed, verbose=True)
    assert len(answer.facts) >= 2
    for number, item in enumerate(answer.facts, start=1):
        assert f"\u201c{item.fact.text}\u201d [{number}]" in text
    numbers = "".join(f"[{n}]" for n in range(1, len(answer.facts) + 1))
    ids = ", ".join(item.fact.id for item in answer.facts)
    where = ", ".join(f"paragraph {item.fact.paragraph}" for item in answer.facts)
    assert f"{numbers} Japan, South Korea arranging Lee visit for talks with Ishiba, Kyodo, {where} ({ids})" in text
    assert text.count("Kyodo") == 1
    assert "confidence" in text


def test_readers_see_paragraphs_not_ids_or_scores(seed: Knowledge, matcher: Matcher) -> None:
    text = render_text(matcher.answer("Will Lee meet Donald Trump?"), seed)
    assert text.endswith("[1] Japan, South Korea arranging Lee visit for talks with Ishiba, Kyodo, paragraph 6")
    assert "ishiba-lee-summit:" not in text and "confidence" not in text


def test_small_talk_gets_a_human_reply(seed: Knowledge, matcher: Matcher) -> None:
    assert render_text(matcher.answer("thx"), seed).startswith("You're welcome")
    assert render_text(matcher.answer("thanks a lot!"), seed).startswith("You're welcome")
    assert render_text(matcher.answer("bye"), seed) == "Goodbye!"
    helped = render_text(matcher.answer("help"), seed)
    assert "follow up" in helped.lower() and "quit" in helped and "number" in helped


def test_abstention_says_so_and_lists_suggestions(seed: Knowledge, matcher: Matcher) -> None:
    answer = matcher.answer("How many missiles did North Korea launch?")
    text = render_text(answer, seed)
    assert text.startswith(NOT_IN_ARTICLE)
    assert "Did you mean:" in text
    assert "  1. " in text and "\u2026" not in text  # numbered, whole sentences


def test_colour_only_wraps_the_same_words(seed: Knowledge, matcher: Matcher) -> None:
    answer = matcher.answer("Will Lee meet Donald Trump?")
    plain = render_text(answer, seed)
    coloured = render_text(answer, seed, color=True)
    assert "\x1b[" in coloured
    assert plain == __import__("re").sub(r"\x1b\[[0-9;]*m", "", coloured)


def test_chat_ends_on_quit(seed: Knowledge, matcher: Matcher) -> None:
    out = io.StringIO()
    assert (
        run_chat(seed, Conversations(matcher), stdin=io.StringIO("who is cho hyun\nquit\nWho is Yoon?\n"), stdout=out)
        == 0
    )
    text = out.getvalue()
    assert "Cho Hyun visited Japan" in text
    assert "you> Who is Yoon?" not in text


class _Typed(io.StringIO):
    """Lines typed one by one, each running what the test does just before it is read."""

    def __init__(self, steps: list[tuple[str, Callable[[], object] | None]]) -> None:
        super().__init__()
        self.steps = steps

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        for line, before in self.steps:
            if before is not None:
                before()
            yield line + "\n"


def test_reload_in_the_chat_reads_the_folder_again_and_keeps_the_old_on_error(tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "tram.txt").write_text(
        "Tram line approved\n\nThe city approved a tram line to the airport on Tuesday.\n", encoding="utf-8"
    )

    def loaded() -> Conversations:
        knowledge = load_knowledge(folder)
        return Conversations(Matcher(knowledge, threshold=0.3))

    def add_ferry() -> None:
        (folder / "ferry.txt").write_text(
            "Ferry cuts\n\nNorthsound Lines cut its sailings to Skerry Island to two a day.\n", encoding="utf-8"
        )

    def break_folder() -> None:
        (folder / "ferry.txt").write_bytes(b"\xff\xfe not text")

    first = loaded()
    typed = _Typed(
        [
            ("how many sailings to skerry island a day", None),
            ("reload", add_ferry),
            ("how many sailings to skerry island a day", None),
            ("reload", break_folder),
            ("when was the tram line approved", None),
        ]
    )
    out = io.StringIO()
    assert run_chat(first.matcher.knowledge, first, stdin=typed, stdout=out, reload=loaded) == 0
    replies = out.getvalue().split("you> ")
    assert "does not say" in replies[1]
    assert "Reloaded." in replies[2] and "(2 facts)" in replies[2]
    assert "Northsound Lines cut its sailings" in replies[3]
    assert "Could not reload" in replies[4] and "ferry.txt" in replies[4]
    assert "Still answering from the articles loaded before" in replies[4]
    assert "approved a tram line" in replies[5]


def test_a_reload_error_naming_a_hostile_file_prints_no_escape_sequence(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "tram.txt").write_text("Tram line approved\n\nThe city approved a tram line.\n", encoding="utf-8")
    first = Conversations(Matcher(load_knowledge(folder), threshold=0.3))

    def broken() -> Conversations:
        raise KnowledgeError(f"{folder}/evil\x1b]2;pwned\x07\x1b[2J.txt: not UTF-8 text (byte 0)")

    out = io.StringIO()
    assert run_chat(first.matcher.knowledge, first, stdin=_Typed([("reload", None)]), stdout=out, reload=broken) == 0
    assert "Could not reload" in out.getvalue() and "evil" in out.getvalue()
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()


def test_answers_about_the_article_read_as_sentences(tmp_path: Path) -> None:
    (tmp_path / "story.txt").write_text("Ferry cuts\n\nThe ferry now runs twice a day.\n", encoding="utf-8")
    (tmp_path / "story.meta.toml").write_text(
        'author = "Priya Raman"\npublished = "14 March 2025"\noutlet = "Coastal Gazette"\n', encoding="utf-8"
    )
    knowledge = load_knowledge(tmp_path)
    matcher = Matcher(knowledge)
    expected = {
        "who wrote this?": "The article was written by Priya Raman. [1]",
        "when was it published": "It was published on 14 March 2025. [1]",
        "which outlet is this from": "It was published by Coastal Gazette. [1]",
    }
    for question, first_line in expected.items():
        assert render_text(matcher.answer(question), knowledge).splitlines()[0] == first_line, question


def test_a_sentence_without_an_end_is_quoted_cut_with_its_span_whole(tmp_path: Path) -> None:
    endless = "The harbour board met on Monday and " + "talked about the ferry and the pier and the tides " * 400
    (tmp_path / "long.txt").write_text(f"Harbour board\n\n{endless}\n", encoding="utf-8")
    knowledge = load_knowledge(tmp_path)
    answer = Matcher(knowledge, threshold=0.0).answer("when did the harbour board meet")
    text = render_text(answer, knowledge)
    quote = text.splitlines()[0]
    assert quote.startswith("\u201cThe harbour board met on Monday") and "\u2026\u201d [1]" in quote
    assert len(quote) < 1_100
    fact = answer.facts[0].fact
    assert fact.end - fact.start == len(endless.rstrip())


def test_numbered_suggestions_wrap_under_their_words() -> None:
    from bot.chat import hang

    text = "Did you mean one of these?\n  1. " + "word " * 30 + "\n  2. short"
    lines = hang(text, 40).splitlines()
    assert lines[1].startswith("  1. word") and all(len(line) <= 40 for line in lines)
    continuation = lines[2 : lines.index("  2. short")]
    assert continuation and all(line.startswith("     word") for line in continuation)
