"""The reader: a small cross-encoder that reads a question beside each candidate fact.

The lexical stages find candidates; the reader scores each (question, fact) pair in one
batch with a transformer fine-tuned for "does this sentence answer the question?"
(``training/train_reader.py`` rebuilds it; ``bot/engine/models/reader/MODEL_CARD.md``
describes it). The fact is read with its context: the article's headline and the
sentence before it, so that "she", "the company" or "the 23-year-old" mean something.
What goes into the model is built here only (:func:`passage`, :meth:`Reader.encode`),
and the training script uses the same functions, so training and answering read alike.

It runs on onnxruntime with the ``tokenizers`` library: no PyTorch at run time. The model
is loaded once, lazily, on the first question that needs it. ``QABOT_READER=off`` turns
the reader off; the matcher then decides with the lexical evidence alone.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from bot.engine.errors import KnowledgeError
from bot.engine.text import printable

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from bot.engine.query import Query

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).with_name("models") / "reader"
MODEL_FILE = "reader.onnx"
TOKENIZER_FILE = "tokenizer.json"
# Tokens per pair when answering: the question, the fact, then its context (headline,
# sentence before), cut from the end, so a long context loses its tail first. A pair costs
# about 0.1 ms a token on one core; 64 reads five candidates within about 30 ms and ranks
# news-dev's answers as well as 96 did (0.648 against 0.657 top-1 by the reader alone).
MAX_TOKENS = 64
# Tokens per pair when training (``training/train_reader.py``): the whole context.
TRAIN_TOKENS = 96
# A question is cut to this many characters before it is read (a question is short; this
# bounds the pair, whatever the input).
QUESTION_CHARS = 200
# The parts of a passage are joined by the separator token, which the model reads as one.
SEPARATOR = " [SEP] "


def passage(fact: str, title: str = "", previous: str = "") -> str:
    """What the reader reads beside a question: the fact, its article's headline and the
    sentence before it (each part only when there is one)."""
    return SEPARATOR.join(part for part in (fact, title, previous) if part)


def question_text(question: str, leans_on: str = "") -> str:
    """The question as the reader reads it: printable text only, and for a follow-up the
    earlier question it leans on ("when did he take office?" after "Tell me about Cho
    Hyun"), which says who "he" is."""
    question = " ".join(printable(question).split())[:QUESTION_CHARS]
    if leans_on:
        question = f"{question} ({' '.join(printable(leans_on).split())[:QUESTION_CHARS]})"
    return question


def reader_question(query: Query) -> str:
    """What the reader reads of ``query``: a follow-up's pronoun resolved when the
    conversation knows whom it stands for, else the question with the one it leans on."""
    if query.resolved:
        return question_text(query.resolved)
    return question_text(query.question, query.leans_on)


def load_tokenizer(folder: Path, max_tokens: int = MAX_TOKENS) -> Tokenizer:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
    tokenizer.enable_truncation(max_length=max_tokens, strategy="longest_first")
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


def encode(tokenizer: Tokenizer, question: str, passages: Sequence[str]) -> dict[str, np.ndarray]:
    """The model's inputs for ``question`` beside each passage, padded to the longest."""
    encodings = tokenizer.encode_batch([(question, text) for text in passages])
    return {
        "input_ids": np.array([item.ids for item in encodings], dtype=np.int64),
        "attention_mask": np.array([item.attention_mask for item in encodings], dtype=np.int64),
        "token_type_ids": np.array([item.type_ids for item in encodings], dtype=np.int64),
    }


# The features of the read order, per candidate: the reader's logit, the lexical score
# over the best lexical score, and whether the lexical order put it first.
ORDER_FEATURES = ("reader", "lexical", "lexical_top")


class ReadOrder(NamedTuple):
    """How the candidates the reader read are put in order: a linear score over
    :data:`ORDER_FEATURES` (fit by ``bot.evaluation.calibrate``), and how many of the
    lexical order's first candidates the reader reads."""

    coefficients: tuple[float, ...]
    candidates: int

    def to_dict(self) -> dict[str, object]:
        return {
            "features": list(ORDER_FEATURES),
            "coefficients": [round(value, 4) for value in self.coefficients],
            "candidates": self.candidates,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReadOrder:
        if list(data.get("features", ())) != list(ORDER_FEATURES):
            raise RuntimeError("the read order was fit with other features; refit it (bot.evaluation.calibrate)")
        return cls(tuple(float(value) for value in data["coefficients"]), int(data["candidates"]))

    def scores(self, logits: np.ndarray, lexical: Sequence[float]) -> np.ndarray:
        scores: np.ndarray = order_features(logits, lexical) @ np.array(self.coefficients)
        return scores


# How many of the lexical order's first candidates the reader reads. Each costs about
# 6 ms on one core; the answering fact is among the first five for 0.85 of news-dev's
# answerable questions (0.89 among eight, at 60 % more time).
READ_CANDIDATES = 5
# The reader alone, for measuring (and the default before a fit).
READER_ALONE = ReadOrder((1.0, 0.0, 0.0), READ_CANDIDATES)


def order_features(logits: np.ndarray, lexical: Sequence[float]) -> np.ndarray:
    """One row of :data:`ORDER_FEATURES` per candidate, in the lexical order."""
    scores = np.asarray(lexical, dtype=np.float64)
    best = float(scores[0]) if len(scores) and scores[0] > 0 else 1.0
    top = np.zeros(len(scores))
    if len(scores):
        top[0] = 1.0
    return np.column_stack([np.asarray(logits, dtype=np.float64), scores / best, top])


class ReaderError(KnowledgeError):
    """The reader's model files are missing or unreadable: like broken knowledge, one line
    on every surface (exit code 2 on the command line)."""


class Reader:
    """Scores (question, passage) pairs with the shipped model; loaded on first use."""

    def __init__(self, folder: Path = MODEL_DIR, *, threads: int = 1) -> None:
        self.folder = folder
        self.threads = threads
        self._lock = threading.Lock()
        self._loaded: tuple[Tokenizer, Any] | None = None

    def available(self) -> bool:
        return (self.folder / MODEL_FILE).is_file() and (self.folder / TOKENIZER_FILE).is_file()

    def load(self) -> tuple[Tokenizer, Any]:
        with self._lock:
            if self._loaded is None:
                try:
                    import onnxruntime as ort

                    options = ort.SessionOptions()
                    options.intra_op_num_threads = self.threads
                    options.inter_op_num_threads = 1
                    options.log_severity_level = 3
                    session = ort.InferenceSession(
                        str(self.folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
                    )
                    self._loaded = (load_tokenizer(self.folder), session)
                except Exception as error:  # onnxruntime raises its own types; one message for all
                    raise ReaderError(f"cannot load the reader from {self.folder}: {error}") from error
            return self._loaded

    def scores(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """One logit per passage: how strongly the model reads it as answering.

        Each pair runs on its own: the int8 model quantizes its activations with a scale
        taken over the whole input, so in a batch one pair's score would depend on the
        others' (and on padding). Alone, a pair always scores the same, at about the same
        cost (no padding)."""
        if not passages:
            return np.zeros(0, dtype=np.float32)
        tokenizer, session = self.load()
        names = {item.name for item in session.get_inputs()}
        found = np.zeros(len(passages), dtype=np.float32)
        for place, text in enumerate(passages):
            inputs = encode(tokenizer, question, [text])
            (logits,) = session.run(None, {name: value for name, value in inputs.items() if name in names})
            found[place] = float(np.asarray(logits).reshape(-1)[0])
        return found


@functools.cache
def default_reader() -> Reader:
    return Reader()
