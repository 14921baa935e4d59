"""The knowledge: articles and their facts with exact spans, and the alias table.

What a knowledge base holds, as data: :class:`Article` (its text, metadata and the lines
set aside as not the story), :class:`Fact` (a sentence or a photo caption, with a stable
id and its span), :class:`AliasGroup` and :class:`Knowledge`; the facts of a large
archive as columns (:class:`FactTable`). Reading an article's text is
``bot.engine.parsing``; reading a folder, ``bot.engine.folder``; lines that recur
across articles, ``bot.engine.furniture``. Every problem is raised as
:class:`KnowledgeError` naming the file.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, TypeVar, overload

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.engine import text as textmod
from bot.engine.errors import KnowledgeError as KnowledgeError  # re-exported: raised by everything here

ALIASES_FILE = "aliases.toml"
META_SUFFIX = ".meta.toml"
# Article files: plain text (and Markdown, read as text), and saved web pages.
WEB_PAGE_SUFFIXES = (".html", ".htm")
ARTICLE_SUFFIXES = (".txt", ".md", *WEB_PAGE_SUFFIXES)
# Larger files are refused: a news article is a few kilobytes, and a huge file is far
# more likely a mistake (a log, a dump) than something to answer questions from.
MAX_ARTICLE_BYTES = 5_000_000


class ArticleMeta(BaseModel):
    """What a ``<id>.meta.toml`` file may say; unknown stays empty."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = ""
    author: str = ""
    outlet: str = ""
    published: str = ""
    url: str = ""

    @field_validator("published", mode="before")
    @classmethod
    def _date(cls, value: object) -> object:
        # TOML has dates of its own (published = 2025-03-14): read as ISO text.
        if isinstance(value, datetime.date | datetime.time):
            return value.isoformat()
        return value


class SetAside(BaseModel):
    """A part of the text read that is not the article's body (see ``bot.engine.reading``)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    start: int
    end: int


class Article(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    author: str = ""
    outlet: str = ""
    published: str = ""
    url: str = ""
    dateline: str = ""
    attribution: str = ""
    path: str = ""
    # The text the facts' spans point into: the file's, or its repair (see reading.repair).
    text: str = Field(repr=False)
    # Lines read as headline, byline, boilerplate ... and not made facts.
    set_aside: tuple[SetAside, ...] = ()

    @classmethod
    def trusted(cls, values: dict[str, object]) -> Article:
        """An article from fields the index cache vouches for, without validation (an
        archive holds tens of thousands of articles; see ``Fact.trusted``)."""
        article = cls.__new__(cls)
        object.__setattr__(article, "__dict__", values)
        object.__setattr__(article, "__pydantic_fields_set__", _ARTICLE_FIELDS)
        object.__setattr__(article, "__pydantic_extra__", None)
        object.__setattr__(article, "__pydantic_private__", None)
        return article

    def citation(self) -> str:
        """One line naming the article: title, outlet, date and link where known."""
        parts = [self.title]
        parts += [part for part in (self.outlet, self.published) if part]
        line = ", ".join(parts)
        return f"{line} <{self.url}>" if self.url else line


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    article_id: str
    paragraph: int
    sentence: int
    kind: Literal["sentence", "caption"]
    start: int
    end: int
    text: str

    @functools.cached_property
    def norm(self) -> str:
        """The text's comparison form (``text.normalize``), worked out when first needed."""
        return textmod.normalize(self.text)

    @classmethod
    def trusted(
        cls,
        article_id: str,
        paragraph: int,
        sentence: int,
        kind: Literal["sentence", "caption"],
        start: int,
        end: int,
        text: str,
    ) -> Fact:
        """A fact from parts the parser or the index cache vouch for, without validation: an
        archive holds a hundred thousand facts, and ``model_construct`` alone would cost a
        second of every start. Its id is made here, the one place ids are spelled."""
        fact = cls.__new__(cls)
        values = {
            "id": f"{article_id}:p{paragraph}.s{sentence}",
            "article_id": article_id,
            "paragraph": paragraph,
            "sentence": sentence,
            "kind": kind,
            "start": start,
            "end": end,
            "text": text,
        }
        object.__setattr__(fact, "__dict__", values)
        object.__setattr__(fact, "__pydantic_fields_set__", _FACT_FIELDS)
        object.__setattr__(fact, "__pydantic_extra__", None)
        object.__setattr__(fact, "__pydantic_private__", None)
        return fact

    def __reduce__(self) -> tuple[Callable[..., Fact], tuple[object, ...]]:
        # Facts cross from parsing processes to the main one by the hundred thousand:
        # rebuilt by ``trusted`` they unpickle about twice as fast as by pydantic's state.
        return Fact.trusted, (
            self.article_id,
            self.paragraph,
            self.sentence,
            self.kind,
            self.start,
            self.end,
            self.text,
        )


# Shared by every trusted fact or article: frozen models never add to it, and model_copy copies it.
_FACT_FIELDS = set(Fact.model_fields)
_ARTICLE_FIELDS = set(Article.model_fields)

FACT_KINDS: tuple[Literal["sentence", "caption"], ...] = ("sentence", "caption")


T = TypeVar("T")

# The place part of a fact id: paragraph and sentence ("p3.s1").
_PLACE = re.compile(r"p(\d+)\.s(\d+)")


class OnDemand(Sequence[T]):
    """A sequence whose items are made when asked for (:meth:`item`); a slice is a list.
    It equals any sequence of equal items."""

    def item(self, number: int) -> T:
        raise NotImplementedError

    @overload
    def __getitem__(self, number: int) -> T: ...

    @overload
    def __getitem__(self, number: slice) -> list[T]: ...

    def __getitem__(self, number: int | slice) -> T | list[T]:
        if isinstance(number, slice):
            return [self.item(place) for place in range(*number.indices(len(self)))]
        if number < 0:
            number += len(self)
        if not 0 <= number < len(self):
            raise IndexError(number)
        return self.item(number)

    def __iter__(self) -> Iterator[T]:
        return (self.item(number) for number in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


class FactTable(OnDemand[Fact]):
    """The facts of many articles kept as columns (article number, paragraph, sentence,
    kind, start, end), each :class:`Fact` made when first asked for: a warm start of a
    large archive then reads arrays instead of building a hundred thousand objects."""

    def __init__(self, articles: Sequence[Article], columns: Sequence[Any]) -> None:
        self._articles = articles
        self.columns = columns  # article number, paragraph, sentence, kind, start, end
        self._made: list[Fact | None] = [None] * len(columns[0])

    def __len__(self) -> int:
        return len(self._made)

    def item(self, number: int) -> Fact:
        fact = self._made[number]
        if fact is None:
            a, paragraph, sentence, kind, start, end = (int(column[number]) for column in self.columns)
            article = self._articles[a]
            fact = Fact.trusted(article.id, paragraph, sentence, FACT_KINDS[kind], start, end, article.text[start:end])
            self._made[number] = fact
        return fact

    def numbers_of(self, article_id: str) -> list[int]:
        """The places of one article's facts, found in the columns (no fact is made)."""
        article = self._numbers.get(article_id)
        if article is None:
            return []
        return np.flatnonzero(np.asarray(self.columns[0]) == article).tolist()

    def number(self, fact_id: str) -> int | None:
        """The place of the fact with this id, or None."""
        article_id, _, place = fact_id.rpartition(":")
        found = _PLACE.fullmatch(place)
        if found is None:
            return None
        paragraph, sentence = int(found.group(1)), int(found.group(2))
        for number in self.numbers_of(article_id):
            if int(self.columns[1][number]) == paragraph and int(self.columns[2][number]) == sentence:
                return number
        return None

    @functools.cached_property
    def _numbers(self) -> dict[str, int]:
        return {article.id: number for number, article in enumerate(self._articles)}


class AliasGroup(BaseModel):
    """Phrases that name the same thing (``same``) or closely related things (``related``)."""

    model_config = ConfigDict(frozen=True)

    phrases: tuple[str, ...]
    related: bool = False


class Knowledge(BaseModel):
    """Everything loaded from one knowledge folder."""

    model_config = ConfigDict(frozen=True)

    articles: dict[str, Article]
    facts: Sequence[Fact]
    aliases: tuple[AliasGroup, ...] = ()

    def facts_of(self, article_id: str) -> list[Fact]:
        if isinstance(self.facts, FactTable):
            return [self.facts[number] for number in self.facts.numbers_of(article_id)]
        return [fact for fact in self.facts if fact.article_id == article_id]

    def fact(self, fact_id: str) -> Fact | None:
        """The fact with this id, if the knowledge holds it."""
        if isinstance(self.facts, FactTable):
            # A large cached archive: found in the columns, not by making every fact.
            number = self.facts.number(fact_id)
            return None if number is None else self.facts[number]
        return self._by_id.get(fact_id)

    @functools.cached_property
    def _by_id(self) -> dict[str, Fact]:
        return {fact.id: fact for fact in self.facts}
