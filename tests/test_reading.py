"""The reading stage, one fixture per messy pattern: what became facts, what metadata."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.articles import read_article
from bot.engine.folder import _load_article, load_knowledge
from bot.engine.knowledge import Article, Fact, KnowledgeError
from bot.engine.matcher import Matcher
from tests.conftest import ROOT

READING = Path(__file__).resolve().parent / "fixtures" / "reading"


def read(name: str) -> tuple[Article, list[Fact]]:
    return _load_article(READING / name)


def texts(facts: list[Fact]) -> list[str]:
    return [" ".join(fact.text.split()) for fact in facts]


def aside(article: Article) -> list[tuple[str, str]]:
    return [(part.kind, article.text[part.start : part.end]) for part in article.set_aside]


def test_a_caption_with_a_credit_and_the_dateline_after_it() -> None:
    article, facts = read("caption-credit.txt")
    assert (facts[0].kind, facts[0].text) == (
        "caption",
        "Workers inspect a steel cable on the Tamsin bridge on Tuesday.",
    )
    assert article.dateline == "MARLOW (Marlow Gazette)"
    assert facts[1].text.startswith("The Tamsin bridge reopened")  # no "— The", no "(Marlow Gazette)" fact
    assert not any("(Marlow Gazette)" in fact.text for fact in facts)


def test_headline_byline_date_share_bar_gallery_and_related_links_are_set_aside() -> None:
    article, facts = read("gallery-share.txt")
    assert texts(facts) == [
        "The river Tam peaked at 4.2 metres on Monday night, the highest level since 1998.",
        "New flood barriers kept the water out of the town centre, the council said.",
    ]
    assert (article.title, article.author, article.published) == (
        "Flood defences hold as river peaks",
        "Ann Keller",
        "5 March 2025",
    )
    kinds = dict((text, kind) for kind, text in aside(article))
    assert kinds["Share this story"] == kinds["Twitter"] == kinds["back to gallery"] == "boilerplate"
    assert kinds["Follow us on Twitter @marlowgazette"] == kinds["Related stories"] == "boilerplate"
    assert kinds["Image 1 of 12"] in ("credit", "boilerplate")


def test_a_copyright_notice_names_the_outlet_and_a_date_line_gives_its_date() -> None:
    article, facts = read("copyright-footer.txt")
    assert texts(facts)[-1].startswith("The council will meet on Thursday")
    assert not any("Gazette" in fact.text or "reserved" in fact.text for fact in facts)
    assert ("copyright", "© 2025 Coastal Gazette. All rights reserved.") in aside(article)
    # The byline without the reporter's role, the date line without its labels.
    assert (article.author, article.outlet) == ("Marta Kowalczyk", "Coastal Gazette")
    assert article.published == "14 March 2025"


def test_a_glued_top_line_and_lines_the_site_says_to_its_reader_are_set_aside() -> None:
    article, facts = read("glued-top-calls.txt")
    # "Tram line to airport approved   2 hours ago   By Priya Natarajan": three parts.
    assert (article.title, article.author, article.published) == (
        "Tram line to airport approved",
        "Priya Natarajan",
        "",
    )
    assert texts(facts) == [
        "Plans for a tram line linking the city centre to the airport have been approved by the regional "
        "transport board.",
        "The 14km line will cost £310m and is due to open in 2029, the board said on Tuesday.",
        "Critics say the money would be better spent on buses.",
        '"This is a vanity project," said councillor Owen Reyes.',
        "The board's chair, Helen Ashby, said the tram would carry 8 million passengers a year.",
    ]
    kinds = dict((text, kind) for kind, text in aside(article))
    assert kinds["Sign up for our free morning newsletter to get the latest news."] == "boilerplate"
    assert kinds["Click here to follow us on Facebook."] == kinds["2 hours ago"] == "boilerplate"
    assert kinds["This article was amended on 3 June 2025 to correct the cost of the line."] == "boilerplate"
    assert kinds["Additional reporting by Tom Greer."] == "credit"


def test_labelled_captions_are_captions_and_player_lines_are_not_facts() -> None:
    article, facts = read("labelled-captions.txt")
    captions = [fact.text for fact in facts if fact.kind == "caption"]
    assert captions == [
        "Rescue teams used boats to reach stranded residents in Carlisle",
        "Watch: Drone footage shows the extent of the flooding",
    ]
    assert not any("caption" in fact.text.lower() or "unsupported" in fact.text for fact in facts)
    kinds = dict((text, kind) for kind, text in aside(article))
    assert kinds["Media playback is unsupported on your device"] == kinds["Supported by"] == "boilerplate"
    assert kinds["Image source, Getty Images"] == "credit"
    assert next(fact.text for fact in facts if fact.kind == "sentence").startswith("Hundreds of people")


def test_paragraphs_on_single_lines() -> None:
    article, facts = read("single-newlines.txt")
    assert article.title == "Council approves new library"
    assert [fact.paragraph for fact in facts] == [1, 2, 3]


def test_a_hard_wrapped_wire_story_is_joined_and_keeps_exact_spans() -> None:
    article, facts = read("hard-wrapped.txt")
    assert article.dateline == "LONDON (Wire)"
    assert texts(facts)[0] == (
        "Shares in the shipping firm Baltic Lines rose 8% on Thursday after the company reported a record profit "
        "for the year and promised to raise its dividend."
    )
    assert [fact.paragraph for fact in facts] == [1, 2]
    assert all(article.text[fact.start : fact.end] == fact.text for fact in facts)


def test_a_whole_article_on_one_line() -> None:
    _, facts = read("one-line.txt")
    assert len(facts) == 4 and facts[3].text == "Services will run as normal, the operator said."


def test_mojibake_entities_and_tags_are_repaired() -> None:
    article, facts = read("mojibake-entities.txt")
    assert texts(facts) == [
        "The town\u2019s music festival returns this summer \u2014 with 40 bands on three stages.",
        "Tickets cost \u00a325 & children go free, organisers said.",
    ]
    assert all(article.text[fact.start : fact.end] == fact.text for fact in facts)  # spans into the repaired text


def test_highlight_summaries_and_footers_are_not_facts() -> None:
    article, facts = read("highlight-story.txt")
    assert len(facts) == 2 and {kind for kind, _ in aside(article)} == {"summary"}
    article, facts = read("footer-rule.txt")
    assert len(facts) == 2
    assert [kind for kind, _ in aside(article)] == ["footer"] * 3


def test_a_saved_web_page_gives_its_text_and_metadata() -> None:
    article, facts = read("saved-page.html")
    assert (article.title, article.author, article.outlet, article.published) == (
        "Bridge reopens after storm repairs",
        "Ann Keller",
        "Marlow Gazette",
        "2025-03-04",
    )
    assert texts(facts)[0].startswith("The Tamsin bridge reopened to traffic on Tuesday")
    assert not any("Share this story" in text or "Home" in text for text in texts(facts))


def test_a_web_page_without_an_article_is_an_error_naming_it() -> None:
    with pytest.raises(KnowledgeError, match=r"empty-page\.html: (no article text|no sentences)"):
        read("empty-page.html")


def test_metadata_files_still_win(tmp_path: Path) -> None:
    (tmp_path / "story.txt").write_text((READING / "gallery-share.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "story.meta.toml").write_text('title = "Our own title"\nauthor = "Desk"\n', encoding="utf-8")
    article = load_knowledge(tmp_path).articles["story"]
    assert (article.title, article.author, article.published) == ("Our own title", "Desk", "5 March 2025")


def answers_from_metadata(matcher: Matcher, expected: dict[str, str]) -> None:
    """Each question is answered from an article's metadata, with the value given."""
    for question, value in expected.items():
        answer = matcher.answer(question)
        assert answer.kind == "meta" and answer.meta is not None and answer.meta.value == value, question


def test_questions_about_the_article_are_answered_from_its_metadata(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text((READING / "saved-page.html").read_text(encoding="utf-8"), encoding="utf-8")
    matcher = Matcher(load_knowledge(tmp_path))
    expected = {
        "Who wrote this?": "Ann Keller",
        "when was it published": "2025-03-04",
        "Which outlet reported it?": "Marlow Gazette",
        "What's the headline?": "Bridge reopens after storm repairs",
    }
    answers_from_metadata(matcher, expected)
    assert matcher.answer("Where is this from?").kind == "abstain"  # no dateline: the article does not say
    assert matcher.answer("Who wrote Hamlet?").kind != "meta"


def test_an_article_named_by_its_subject_is_the_one_asked_about(tmp_path: Path) -> None:
    for name in ("copyright-footer.txt", "gallery-share.txt"):
        (tmp_path / name).write_text((READING / name).read_text(encoding="utf-8"), encoding="utf-8")
    matcher = Matcher(load_knowledge(tmp_path))
    expected = {
        "who wrote the ferry story?": "Marta Kowalczyk",
        "Who wrote the article about the flood?": "Ann Keller",
        "when was the flood story published": "5 March 2025",
        "Which outlet published the ferry article?": "Coastal Gazette",
    }
    answers_from_metadata(matcher, expected)
    # Two articles and no subject: which one "this" is, only a conversation can tell.
    assert matcher.answer("Who wrote this?").kind != "meta"
    # A subject no article is about, and a report inside the article, are ordinary questions.
    assert matcher.answer("Who wrote the article about the volcano?").kind != "meta"
    assert matcher.answer("Who wrote the report on the flood barriers?").kind != "meta"


def test_facts_all_lists_what_was_set_aside_and_check_warns(tmp_path: Path) -> None:
    (tmp_path / "flood.txt").write_text((READING / "gallery-share.txt").read_text(encoding="utf-8"), encoding="utf-8")
    listed = subprocess.run(
        [sys.executable, "-m", "bot", "facts", "--all", "--knowledge", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert "(headline) [0:34] Flood defences hold as river peaks" in listed.stdout
    assert "(boilerplate)" in listed.stdout and "metadata: author 'Ann Keller'" in listed.stdout
    mostly = tmp_path / "menu.txt"
    mostly.write_text("Home\nNews\nSport\nWeather\nShare\nFollow us\n\nThe fair opens on Friday.\n", encoding="utf-8")
    checked = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--knowledge", str(tmp_path)], cwd=ROOT, capture_output=True, text=True
    )
    assert checked.returncode == 0 and "menu.txt: most of the text" in checked.stderr


def test_news_headlines_become_titles_not_facts() -> None:
    folder = ROOT.parent / "shared" / "eval" / "news-dev"
    if not folder.is_dir():
        pytest.skip("the news-dev articles are not beside this checkout")
    knowledge = load_knowledge(folder)
    for article in knowledge.articles.values():
        first_line = article.text.strip().splitlines()[0].strip()
        assert article.title == first_line
        assert all(fact.text != first_line for fact in knowledge.facts_of(article.id))


def test_a_short_line_recurring_across_articles_is_set_aside(tmp_path: Path) -> None:
    from bot.engine.cache import load_index

    for number, topic in enumerate(["harbour", "bridge", "school"]):
        (tmp_path / f"story{number}.txt").write_text(
            f"The {topic} opened on Monday after repairs, the council said.\n\n"
            "Marlow Gazette newsroom desk\n\n"
            f"Officials expect the {topic} to stay open all year.\n",
            encoding="utf-8",
        )
    (tmp_path / "other.txt").write_text(
        "The ferry ran late on Tuesday.\n\nHarbour master notes\n\nCrews fixed the ramp by noon.\n", encoding="utf-8"
    )
    index = load_index(tmp_path, None)
    texts = [fact.text for fact in index.facts]
    assert "Marlow Gazette newsroom desk" not in texts  # in three articles: furniture
    assert "Harbour master notes" in texts  # in one article only: kept
    assert len(index.match_texts) == len(index.facts) == 9  # the index holds only the kept facts
    article = index.knowledge.articles["story0"]
    assert ("repeated", "Marlow Gazette newsroom desk") in aside(article)
    assert load_knowledge(tmp_path).facts == index.knowledge.facts


def test_a_saved_sign_in_page_is_not_an_article(tmp_path: Path) -> None:
    page = (READING / "sign-in-page.html").read_text(encoding="utf-8")
    (tmp_path / "login.html").write_text(page, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"login\.html: no article text found"):
        load_knowledge(tmp_path)
    with pytest.raises(KnowledgeError, match="no article text found"):
        read_article("login.html", page.encode(), limit=1_000_000)


def test_a_copyright_year_is_not_a_publication_date(tmp_path: Path) -> None:
    page = (
        "<html><head><title>Harbour reopens</title></head><body><article><h1>Harbour reopens</h1>"
        "<p>The harbour at Marlow reopened on Monday after a month of repairs to its sea wall.</p>"
        "<p>Fishing boats returned to their moorings by the afternoon, and the ferry ran again.</p>"
        "</article><footer><p>\u00a9 2025 Coastal Gazette. All rights reserved.</p></footer></body></html>"
    )
    (tmp_path / "harbour.html").write_text(page, encoding="utf-8")
    assert load_knowledge(tmp_path).articles["harbour"].published == ""
    dated = page.replace("<title>", '<meta property="article:published_time" content="2025-03-04"><title>')
    (tmp_path / "harbour.html").write_text(dated, encoding="utf-8")
    assert load_knowledge(tmp_path).articles["harbour"].published == "2025-03-04"


def test_a_headline_with_furniture_words_a_bracketed_promo_and_a_glued_advert() -> None:
    article, facts = read("furniture-headline.txt")
    assert article.title == "Council to close harbour car park and home for boats"
    assert article.author == "Helen Marsh"
    texts = [fact.text for fact in facts]
    assert texts[1].startswith("The ban will run") and all("ADVERTISEMENT" not in text for text in texts)
    assert texts[0].endswith("from next summer.")
    assert not [text for text in texts if text.startswith(("[", "Follow"))]


def test_a_call_to_follow_someone_on_a_network_is_set_aside_but_a_quote_is_not(tmp_path: Path) -> None:
    text = (
        "Harbour reopens\n\nThe harbour at Marlow reopened on Monday after a month of repairs.\n\n"
        '"Follow the money," said Jo Pike, who chairs the harbour board.\n\n'
        "Follow Helen Marsh on Twitter: @helenmarsh.\n"
    )
    (tmp_path / "harbour.txt").write_text(text, encoding="utf-8")
    texts = [fact.text for fact in load_knowledge(tmp_path).facts]
    assert texts == [
        "The harbour at Marlow reopened on Monday after a month of repairs.",
        '"Follow the money," said Jo Pike, who chairs the harbour board.',
    ]


def test_a_figure_caption_in_a_saved_page_is_a_caption_fact(tmp_path: Path) -> None:
    figure = (
        '<figure><img src="bridge.jpg" alt="The bridge"><figcaption>The Tamsin bridge was built in 1902 '
        "and carries 20,000 vehicles a day.</figcaption></figure>\n<p>Engineer Raj Patel"
    )
    page = (READING / "saved-page.html").read_text(encoding="utf-8").replace("<p>Engineer Raj Patel", figure, 1)
    (tmp_path / "saved-page-figure.html").write_text(page, encoding="utf-8")
    article, facts = _load_article(tmp_path / "saved-page-figure.html")
    captions = [fact.text for fact in facts if fact.kind == "caption"]
    assert captions == ["The Tamsin bridge was built in 1902 and carries 20,000 vehicles a day."]
    assert article.text[facts[1].start : facts[1].end] == captions[0]
    assert len([fact for fact in facts if fact.kind == "sentence"]) == 3
