"""The reader: the shipped model, the decision it informs, the off switch, the training script."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot import wiring
from bot.engine.knowledge import Knowledge
from bot.engine.matcher import Matcher
from bot.engine.parsing import parse_article
from bot.engine.reader import MODEL_DIR, Reader, default_reader, passage
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

# Written for these tests: the answers sit in a sentence that names its subject only by a
# pronoun, in a paraphrase, and after a lead that names the subject without answering.
STORY = """Harbour bakery sold after 26 years

The Old Quay Bakery in Port Ellis has been sold to a regional chain, ending a quarter of a century of family ownership.

Maria Lopez opened the bakery in 1998 with a loan from her brother.

She sold it to the Brennan Foods group last month for £1.2m, according to company filings.

The new owners blamed rising flour and energy prices for a decision to stop baking on the premises.

Bread will instead be delivered each morning from a central kitchen in Dunmore, about 40 miles away.

Regular customers have started a petition asking the chain to keep the ovens running.
"""


@pytest.fixture(scope="module")
def reading() -> Matcher:
    article, facts = parse_article("bakery", STORY)
    return Matcher(Knowledge(articles={article.id: article}, facts=tuple(facts), aliases=()), reader=default_reader())


def answer_text(matcher: Matcher, question: str) -> str | None:
    answer = matcher.answer(question)
    return answer.facts[0].fact.text if answer.answered else None


def test_the_shipped_model_is_small_and_scores_deterministically() -> None:
    model = MODEL_DIR / "reader.onnx"
    assert model.stat().st_size < 26_000_000
    reader = Reader()
    question = "How much was the bakery sold for?"
    passages = [
        passage(
            "She sold it to the Brennan Foods group last month for £1.2m.", "Harbour bakery sold", "Maria Lopez ..."
        ),
        passage("Regular customers have started a petition.", "Harbour bakery sold"),
    ]
    first, second = reader.scores(question, passages), reader.scores(question, passages)
    assert np.array_equal(first, second)
    assert first[0] > first[1]
    # One pair alone scores as it does within a batch (padding does not leak into it).
    assert reader.scores(question, passages[:1])[0] == pytest.approx(first[0], abs=1e-3)


def test_a_sentence_that_names_its_subject_by_a_pronoun(reading: Matcher) -> None:
    assert answer_text(reading, "How much did Maria Lopez sell the bakery for?") == (
        "She sold it to the Brennan Foods group last month for £1.2m, according to company filings."
    )


def test_a_paraphrase_is_read_first(reading: Matcher) -> None:
    # The answering sentence shares almost no word with the question; the reader puts it
    # first. (The decision still abstains on this one: it is offered as the first
    # suggestion, see the closing figures for how often paraphrases are answered.)
    answer = reading.answer("why will they stop baking bread at the quay")
    assert answer.candidates[0].fact.text.startswith("The new owners blamed")
    assert answer.answered or answer.suggestions[0].startswith("The new owners blamed")


def test_a_lead_that_names_the_subject_but_does_not_answer(reading: Matcher) -> None:
    found = answer_text(reading, "Where will the bread come from now?")
    assert found is not None and found.startswith("Bread will instead be delivered")


def test_an_unanswerable_question_about_a_named_person(reading: Matcher) -> None:
    assert reading.answer("When was Maria Lopez born?").kind == "abstain"


def test_the_off_switch_answers_with_the_lexical_evidence_alone(tmp_path: Path) -> None:
    assert wiring.reader(Settings(_env_file=None, reader=False)) is None  # type: ignore[call-arg]
    assert wiring.reader(Settings(_env_file=None)) is default_reader()  # type: ignore[call-arg]
    off = Settings(_env_file=None, reader=False)  # type: ignore[call-arg]
    assert wiring.threshold(off) != wiring.threshold(Settings(_env_file=None))  # type: ignore[call-arg]


def test_a_follow_up_reaches_the_reader_with_the_words_it_leans_on(reading: Matcher) -> None:
    from bot.engine.conversation import Conversations

    talk = Conversations(reading)
    talk.answer("c", "Who opened the Old Quay Bakery?")
    answer = talk.answer("c", "who did she sell it to?")
    assert answer.answered and " sold " in answer.facts[0].fact.text


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="the training extra is not installed")
def test_the_training_script_runs_a_few_steps_and_exports(tmp_path: Path) -> None:
    squad = {
        "data": [
            {
                "title": "Harbour_bakery",
                "paragraphs": [
                    {
                        "context": STORY.split("\n\n", 1)[1].replace("\n\n", " "),
                        "qas": [
                            {
                                "question": "Who opened the bakery?",
                                "answers": [
                                    {
                                        "text": "Maria Lopez",
                                        "answer_start": STORY.split("\n\n", 1)[1]
                                        .replace("\n\n", " ")
                                        .index("Maria Lopez"),
                                    }
                                ],
                            },
                            {
                                "question": "Where is the central kitchen?",
                                "answers": [
                                    {
                                        "text": "Dunmore",
                                        "answer_start": STORY.split("\n\n", 1)[1].replace("\n\n", " ").index("Dunmore"),
                                    }
                                ],
                            },
                        ],
                    }
                ],
            }
        ]
    }
    data = tmp_path / "squad.json"
    data.write_text(json.dumps(squad))
    out = tmp_path / "model"
    command = [sys.executable, str(ROOT / "training" / "train_reader.py"), "--squad", str(data), "--out", str(out)]
    command += ["--steps", "2", "--batch", "1", "--held-out", "1", "--minutes", "2"]
    subprocess.run(command, check=True, timeout=600, capture_output=True)
    report = json.loads((out / "export.json").read_text())
    assert report["step"] == 2
    assert (out / "reader.onnx").stat().st_size < 26_000_000
    assert Reader(out).scores("Who opened the bakery?", ["Maria Lopez opened the bakery."]).shape == (1,)


def test_a_damaged_model_file_is_a_one_line_knowledge_error(tmp_path: Path) -> None:
    from bot.engine.errors import KnowledgeError

    (tmp_path / "reader.onnx").write_bytes(b"not a model")
    (tmp_path / "tokenizer.json").write_bytes((MODEL_DIR / "tokenizer.json").read_bytes())
    with pytest.raises(KnowledgeError, match="cannot load the reader"):
        Reader(tmp_path).scores("Who?", ["Someone."])
