from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.engine.folder import load_knowledge
from bot.engine.knowledge import Knowledge, KnowledgeError
from bot.engine.parsing import parse_article
from tests.conftest import KNOWLEDGE, SEED_ID


def test_seed_article_is_ten_facts_caption_first(seed: Knowledge) -> None:
    facts = seed.facts_of(SEED_ID)
    assert len(facts) == 10
    assert [f.kind for f in facts] == ["caption"] + ["sentence"] * 9
    assert facts[0].text == (
        "This combined photo shows Japanese Prime Minister Shigeru Ishiba, left, "
        "and South Korean President Lee Jae Myung."
    )


def test_spans_point_at_the_original_text(seed: Knowledge) -> None:
    raw = (KNOWLEDGE / f"{SEED_ID}.txt").read_text(encoding="utf-8")
    for fact in seed.facts:
        assert raw[fact.start : fact.end] == fact.text
        assert fact.text == fact.text.strip()


def test_seed_file_is_the_shared_article_byte_for_byte() -> None:
    shared = KNOWLEDGE.parent.parent / "shared" / "article" / f"{SEED_ID}.txt"
    if not shared.exists():
        pytest.skip("shared article not beside this checkout")
    assert (KNOWLEDGE / f"{SEED_ID}.txt").read_bytes() == shared.read_bytes()


def test_dateline_moves_to_metadata_and_footer_is_not_a_fact(seed: Knowledge) -> None:
    article = seed.articles[SEED_ID]
    assert article.dateline == "TOKYO (Kyodo)"
    assert article.attribution == "AloJapan.com"
    first_sentence = seed.facts_of(SEED_ID)[1]
    assert first_sentence.text.startswith("The Japanese and South Korean governments")
    assert not any("AloJapan" in fact.text for fact in seed.facts)
    assert article.title == "Japan, South Korea arranging Lee visit for talks with Ishiba"
    assert article.outlet == "Kyodo"
    assert article.url == ""


def test_ids_are_stable_and_readable(seed: Knowledge) -> None:
    ids = [fact.id for fact in seed.facts_of(SEED_ID)]
    assert ids[0] == f"{SEED_ID}:p1.s1"
    assert ids[2] == f"{SEED_ID}:p3.s1"
    assert len(set(ids)) == len(ids)
    again = load_knowledge(KNOWLEDGE)
    assert [f.id for f in again.facts_of(SEED_ID)] == ids


def test_second_article_with_abbreviations(two_articles: Path, seed: Knowledge) -> None:
    knowledge = load_knowledge(two_articles)
    assert set(knowledge.articles) == {SEED_ID, "port-strike"}
    # Adding an article leaves the seed's facts and ids untouched.
    assert knowledge.facts_of(SEED_ID) == seed.facts_of(SEED_ID)
    facts = knowledge.facts_of("port-strike")
    texts = [f.text for f in facts]
    assert facts[0].kind == "caption"
    assert texts[1].startswith("Dockworkers at two U.S. West Coast ports ended a four-day strike on Jan. 5 after")
    assert texts[2] == "The agreement still needs a vote by union members."
    assert texts[3].startswith("Mr. Alvarez, who leads the local union")
    assert (
        texts[4] == "\u201cThis is a fair contract,\u201d he told reporters."
        or texts[4] == '"This is a fair contract," he told reporters.'
    )
    assert [f.id for f in facts][:3] == ["port-strike:p1.s1", "port-strike:p2.s1", "port-strike:p2.s2"]
    article = knowledge.articles["port-strike"]
    assert article.dateline == "LONG BEACH, Calif. (AP)"
    assert article.attribution == "Example Wire"
    assert article.published == "2025-01-06"
    raw = article.text
    for fact in facts:
        assert raw[fact.start : fact.end] == fact.text


def test_article_without_metadata_is_titled_from_file_name(tmp_path: Path) -> None:
    (tmp_path / "harbor-reopens.txt").write_text("The harbor reopened on Monday. Ships returned.\n", encoding="utf-8")
    knowledge = load_knowledge(tmp_path)
    article = knowledge.articles["harbor-reopens"]
    assert article.title == "Harbor reopens"
    assert article.outlet == article.url == article.published == ""
    assert [f.text for f in knowledge.facts] == ["The harbor reopened on Monday.", "Ships returned."]


def test_normalized_form_folds_quotes_case_and_possessives(seed: Knowledge) -> None:
    fact = seed.facts_of(SEED_ID)[3]
    assert "north korea nuclear" in fact.norm
    assert "\u2019" not in fact.norm


def test_parse_article_keeps_quotes_inside_sentence() -> None:
    raw = 'He said, "We will go to Washington." Then he left for the U.S. on Jan. 5.'
    _, facts = parse_article("a", raw)
    assert [f.text for f in facts] == ['He said, "We will go to Washington."', "Then he left for the U.S. on Jan. 5."]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: None, "no articles"),
        (lambda d: (d / "a.txt").write_text("   \n", encoding="utf-8"), "empty"),
        (lambda d: (d / "a.txt").write_bytes(b"\x89PNG\x00\x00binary"), "binary"),
        (lambda d: (d / "a.txt").write_bytes(b"caf\xe9 au lait."), "not valid UTF-8"),
        (
            lambda d: (
                (d / "a.txt").write_text("Fine text.", encoding="utf-8"),
                (d / "a.meta.toml").write_text("title = ", encoding="utf-8"),
            ),
            "malformed TOML",
        ),
        (
            lambda d: (
                (d / "a.txt").write_text("Fine text.", encoding="utf-8"),
                (d / "a.meta.toml").write_text("autor = 'x'", encoding="utf-8"),
            ),
            "autor",
        ),
        (
            lambda d: (
                (d / "a.txt").write_text("One.", encoding="utf-8"),
                (d / "sub").mkdir(),
                (d / "sub" / "a.txt").write_text("Two.", encoding="utf-8"),
            ),
            "duplicate article id",
        ),
        (
            lambda d: (
                (d / "a.txt").write_text("One.", encoding="utf-8"),
                (d / "aliases.toml").write_text("same = [['x']]", encoding="utf-8"),
            ),
            "aliases.toml",
        ),
    ],
)
def test_broken_knowledge_names_the_problem(tmp_path: Path, setup: Callable[[Path], object], message: str) -> None:
    setup(tmp_path)
    with pytest.raises(KnowledgeError, match=message):
        load_knowledge(tmp_path)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="does not exist"):
        load_knowledge(tmp_path / "nope")


def test_a_huge_file_is_refused_by_size(tmp_path: Path) -> None:
    with (tmp_path / "dump.txt").open("wb") as out:
        out.truncate(50_000_000)
    with pytest.raises(KnowledgeError, match=r"dump\.txt: file is 50,000,000 bytes"):
        load_knowledge(tmp_path)


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def test_a_fifo_named_txt_is_an_error_not_a_hang(folder: Path) -> None:
    os.mkfifo(folder / "pipe.txt")
    with pytest.raises(KnowledgeError, match=r"pipe\.txt: not a regular file"):
        load_knowledge(folder)


def test_a_link_to_a_device_is_an_error_not_endless_reading(folder: Path) -> None:
    (folder / "zero.txt").symlink_to("/dev/zero")
    with pytest.raises(KnowledgeError, match=r"zero\.txt: not a regular file"):
        load_knowledge(folder)


def test_a_link_loop_is_walked_once(folder: Path) -> None:
    (folder / "img").mkdir()
    (folder / "img" / "a").symlink_to(".")
    (folder / "img" / "b").symlink_to("..")
    knowledge = load_knowledge(folder)
    assert len(knowledge.articles) == 1 and len(knowledge.facts) == 10


def test_an_unreadable_sub_folder_is_reported(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hidden = folder / "archive"
    hidden.mkdir()
    scandir = os.scandir

    def refusing(path: str) -> Any:
        if path == str(hidden):
            raise PermissionError(13, "Permission denied", path)
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    with pytest.raises(KnowledgeError, match=r"archive: cannot be read \(Permission denied\)"):
        load_knowledge(folder)


def test_a_byte_order_mark_and_cr_line_ends_are_read_as_layout() -> None:
    raw = "\ufeffMARLOW (Gazette) \u2014 The bridge reopened on Tuesday.\r\rWorkers repainted the cables.\r\rGazette"
    article, facts = parse_article("bridge", raw)
    assert article.dateline == "MARLOW (Gazette)"
    assert [fact.text for fact in facts] == ["The bridge reopened on Tuesday.", "Workers repainted the cables."]
    assert all(raw[fact.start : fact.end] == fact.text for fact in facts)
    assert article.attribution == "Gazette"


def test_a_japanese_last_paragraph_is_a_fact_not_an_outlet_line() -> None:
    article, facts = parse_article("ja", "東京で首脳会談が行われた。\n\n両首脳は協力の強化で合意した。")
    assert [fact.text for fact in facts] == ["東京で首脳会談が行われた。", "両首脳は協力の強化で合意した。"]
    assert article.attribution == ""


def test_upper_case_suffixes_are_loaded_as_add_accepts_them(tmp_path: Path) -> None:
    (tmp_path / "FERRY.TXT").write_text("Ferry cuts\n\nThe ferry now runs twice a day.\n", encoding="utf-8")
    (tmp_path / "Bridge.HTM").write_text(
        "<html><head><title>Bridge shut</title></head><body><article><h1>Bridge shut</h1>"
        "<p>The swing bridge will close for repairs in May, the council said on Monday.</p>"
        "<p>Drivers will be sent on a twelve-mile detour through Ashby while the work goes on.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    knowledge = load_knowledge(tmp_path)
    assert sorted(knowledge.articles) == ["Bridge", "FERRY"]
    assert any("twice a day" in fact.text for fact in knowledge.facts)
    assert any("swing bridge" in fact.text for fact in knowledge.facts)


@pytest.mark.parametrize("length", [247, 251])
def test_an_article_whose_name_leaves_no_room_for_metadata_is_read(tmp_path: Path, length: int) -> None:
    name = "a" * (length - len(".txt")) + ".txt"
    (tmp_path / name).write_text("Title\n\nThe long named file holds one sentence.\n", encoding="utf-8")
    knowledge = load_knowledge(tmp_path)
    assert [fact.text for fact in knowledge.facts] == ["The long named file holds one sentence."]


def test_a_toml_date_is_a_publication_date(tmp_path: Path) -> None:
    (tmp_path / "ferry.txt").write_text("Ferry cuts\n\nThe ferry now runs twice a day.\n", encoding="utf-8")
    (tmp_path / "ferry.meta.toml").write_text("published = 2025-03-14\n", encoding="utf-8")
    assert load_knowledge(tmp_path).articles["ferry"].published == "2025-03-14"
