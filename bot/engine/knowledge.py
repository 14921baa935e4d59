"""The knowledge folder: articles on disk, parsed into facts with exact spans.

An article is a UTF-8 ``.txt`` file with an optional ``<id>.meta.toml`` beside it
(title, outlet, published, url). Paragraphs are separated by blank lines; sentences are
found by syntok; an opening photo caption becomes a ``caption`` fact; a dateline such as
``TOKYO (Kyodo) —`` is moved to the article's metadata; a trailing line that only names
a site is attribution, not a fact. ``aliases.toml`` in the folder holds the curated term
equivalences. Every problem is raised as :class:`KnowledgeError` naming the file.
"""

from __future__ import annotations

import datetime
import errno
import functools
import os
import re
import stat
import sys
import tomllib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.engine import reading
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
# From this many files on, articles are parsed in worker processes, one per core.
_PARALLEL_FILES = 500


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


# An outlet or site line is short ("AloJapan.com", "Reuters").
_ATTRIBUTION_CHARS = 60


def _sentences(raw: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside ``raw[start:end]``, found by syntok."""
    from syntok import segmenter

    chunk = raw[start:end]
    starts = [sentence[0].offset for paragraph in segmenter.analyze(chunk) for sentence in paragraph if sentence]
    spans = []
    for index, offset in enumerate(starts):
        stop = starts[index + 1] if index + 1 < len(starts) else len(chunk)
        piece = chunk[offset:stop].rstrip()
        # syntok's token offset points at the word; keep an opening quote or bracket.
        lead = offset
        while lead > 0 and chunk[lead - 1] in "\"'\u201c\u2018([" and (index == 0 or lead - 1 >= starts[index - 1]):
            lead -= 1
        if piece:
            spans.append((start + lead, start + offset + len(piece)))
    return spans


def _is_attribution(line: str) -> bool:
    """A last paragraph that only names a site or outlet ("AloJapan.com")."""
    words = line.split()
    return (
        "\n" not in line and 0 < len(words) <= 5 and len(line) <= _ATTRIBUTION_CHARS and not reading.is_sentence(line)
    )


# "By Jane Doe, Political correspondent": the role after the name is not the author.
_ROLE = re.compile(
    r"\s*(?:,|\||\s-\s|\s\u2013\s|\s\u2014\s)\s*[^,|]*\b(?:reporter|correspondent|editor|writer|journalist|"
    r"staff|contributor|columnist|analyst|producer|desk)s?\b.*$",
    re.IGNORECASE,
)


def _byline_name(byline: str) -> str:
    """Who a byline names: "By Marta Kowalczyk, Transport reporter" -> "Marta Kowalczyk"."""
    name = re.sub(r"^(?:by|written by|reporting by|words by)\s+", "", byline.strip(), flags=re.IGNORECASE)
    return _ROLE.sub("", name).strip() or name.strip()


def default_title(article_id: str) -> str:
    """The title of an article that has none of its own: its id, read as words."""
    return article_id.replace("-", " ").replace("_", " ").strip().capitalize()


def _layout(raw: str) -> str:
    """``raw`` with its line ends read as "\\n" ("\\r\\n" as " \\n", a lone "\\r" as "\\n") and
    a byte-order mark as a space: every change keeps the length, so spans found in the
    result point into ``raw`` unchanged."""
    return raw.replace("\r\n", " \n").replace("\r", "\n").replace("\ufeff", " ")


def parse_article(
    article_id: str, raw: str, meta: ArticleMeta | None = None, path: str = ""
) -> tuple[Article, list[Fact]]:
    """Read one article's text into its :class:`Article` and :class:`Fact` list.

    The reading stage (``bot.engine.reading``) sets aside what is not the body; its
    headline, byline and date become metadata, where ``meta`` still wins. Facts are the
    body's sentences, and a photo caption's words.
    """
    meta = meta or ArticleMeta()
    stored = reading.repair(raw)
    text = _layout(stored)
    blocks = reading.read_blocks(text)
    found: dict[str, str] = {}
    set_aside: list[SetAside] = []
    attribution = ""
    if blocks and blocks[-1].kind in ("boilerplate", "body") and len(blocks) > 1:
        last = text[blocks[-1].start : blocks[-1].end]
        if _is_attribution(last) and not reading.furniture_words(last):
            attribution = last
            blocks = blocks[:-1]
    facts: list[Fact] = []
    dateline = ""
    number = 0
    for block in blocks:
        start, end = block.start, block.end
        chunk = text[start:end]
        if block.kind not in ("body", "caption"):
            set_aside.append(SetAside(kind=block.kind, start=start, end=end))
            found.setdefault(block.kind, chunk)
            continue
        number += 1
        if block.kind == "caption":
            credit = reading.CREDIT.search(chunk)
            stop = start + (credit.start() if credit else len(chunk))
            label = reading.CAPTION_LABEL.match(chunk)
            start += label.end() if label else 0  # "Image caption, ": the caption is what follows
            if text[start:stop].strip():
                facts.append(_fact(article_id, stored, number, 1, "caption", start, len(text[:stop].rstrip())))
            continue
        if not dateline and not any(fact.kind == "sentence" for fact in facts):
            match = reading.DATELINE.match(chunk)
            if match:
                dateline = match.group("dateline").strip()
                start += match.end()
        index = 0
        for s, e in _sentences(text, start, end):
            # An advert marker glued on by scraping is not part of the sentence.
            if (mark := reading.AD_MARK_START.match(text, s, e)) is not None:
                s = mark.end()
            if (mark := reading.AD_MARK_END.search(text, s, e)) is not None:
                e = mark.start()
            if e > s:
                index += 1
                facts.append(_fact(article_id, stored, number, index, "sentence", s, e))

    headline = " ".join(found.get("headline", "").split())
    title = meta.title or headline or default_title(article_id)
    byline = found.get("byline", "")
    author = meta.author or _byline_name(byline)
    article = Article(
        id=article_id,
        title=title,
        author=author,
        outlet=meta.outlet or reading.copyright_holder(found.get("copyright", "")),
        published=meta.published or reading.publication_date(found.get("date", "")),
        url=meta.url,
        dateline=dateline,
        attribution=attribution,
        path=path,
        text=stored,
        set_aside=tuple(set_aside),
    )
    return article, facts


def _fact(
    article_id: str, raw: str, paragraph: int, sentence: int, kind: Literal["sentence", "caption"], start: int, end: int
) -> Fact:
    return Fact.trusted(article_id, paragraph, sentence, kind, start, end, raw[start:end])


def _read_text(path: Path) -> str:
    size = _require_regular(path).st_size
    if size > MAX_ARTICLE_BYTES:
        raise KnowledgeError(f"{path}: file is {size:,} bytes; the limit is {MAX_ARTICLE_BYTES:,}")
    try:
        with path.open("rb") as source:
            data = source.read(MAX_ARTICLE_BYTES + 1)  # bounded, even if the file grows meanwhile
    except OSError as exc:
        raise KnowledgeError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(data) > MAX_ARTICLE_BYTES:
        raise KnowledgeError(f"{path}: file is over {MAX_ARTICLE_BYTES:,} bytes, the limit")
    if b"\x00" in data:
        raise KnowledgeError(f"{path}: looks like a binary file, not UTF-8 text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KnowledgeError(f"{path}: not valid UTF-8 (byte {exc.start})") from None


def _read_toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeError(f"{path}: malformed TOML ({exc})") from None


def _read_meta(path: Path) -> ArticleMeta | None:
    try:
        if not path.exists():
            return None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return None  # the article's name is too long for a metadata file beside it
        raise KnowledgeError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        return ArticleMeta.model_validate(_read_toml(path))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors())
        raise KnowledgeError(f"{path}: {problems}") from None


def _read_aliases(path: Path) -> tuple[AliasGroup, ...]:
    if not path.exists():
        return ()
    data = _read_toml(path)
    groups: list[AliasGroup] = []
    for key, related in (("same", False), ("related", True)):
        entries = data.get(key, [])
        if not isinstance(entries, list) or not all(
            isinstance(group, list) and len(group) >= 2 and all(isinstance(p, str) and p.strip() for p in group)
            for group in entries
        ):
            raise KnowledgeError(f"{path}: '{key}' must be a list of lists of two or more phrases")
        groups += [AliasGroup(phrases=tuple(group), related=related) for group in entries]
    unknown = set(data) - {"same", "related"}
    if unknown:
        raise KnowledgeError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; use 'same' and 'related'")
    return tuple(groups)


def file_names(folder: Path, suffixes: tuple[str, ...] = (*ARTICLE_SUFFIXES, META_SUFFIX, ALIASES_FILE)) -> list[str]:
    """Files under ``folder`` (sub-folders too) whose names end with one of ``suffixes``,
    sorted, as strings: an archive has tens of thousands of files, and strings are
    quicker to walk and sort than Path objects. By default, every knowledge file.

    Links are followed, but a folder reached twice (a link loop) is walked once. A
    sub-folder that cannot be read, or a matching name that is not a regular file (a
    FIFO, a device, a broken link), is a :class:`KnowledgeError`: reading one would
    hang or never end, and skipping it silently would hide articles.
    """

    found: list[str] = []
    walked: set[tuple[int, int]] = set()
    pending = [str(folder)]
    while pending:
        root = pending.pop()
        try:
            info = os.stat(root)
            if (info.st_dev, info.st_ino) in walked:
                continue  # a link back to a folder already walked
            walked.add((info.st_dev, info.st_ino))
            with os.scandir(root) as entries:
                for entry in entries:
                    # DirEntry answers from the directory listing, without a stat per file.
                    if entry.is_dir():
                        pending.append(entry.path)
                    elif entry.name.lower().endswith(suffixes):  # "Story.TXT" too
                        if not entry.is_file():
                            _require_regular(entry.path)  # raises, naming what it is
                        found.append(entry.path)
        except OSError as error:
            raise KnowledgeError(f"{error.filename or root}: cannot be read ({error.strerror})") from None
    found.sort()
    return found


def _require_regular(path: str | Path) -> os.stat_result:
    """The file's status, when it is a regular file (or a link to one); else KnowledgeError."""
    try:
        info = os.stat(path)
    except OSError as error:
        raise KnowledgeError(f"{path}: cannot be read ({error.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise KnowledgeError(f"{path}: not a regular file (a FIFO, device or socket); only regular files are read")
    return info


def _load_article(path: Path) -> tuple[Article, list[Fact]]:
    raw = _read_text(path)
    if not raw.strip():
        raise KnowledgeError(f"{path}: file is empty")
    meta = _read_meta(path.with_name(path.stem + META_SUFFIX))
    if path.suffix.lower() in WEB_PAGE_SUFFIXES:
        raw, found = read_web_page(raw, str(path))
        meta = found if meta is None else found.model_copy(update=meta.model_dump(exclude_defaults=True))
    article, facts = parse_article(path.stem, raw, meta, str(path))
    if not facts:
        raise KnowledgeError(f"{path}: no sentences found")
    if path.suffix.lower() in WEB_PAGE_SUFFIXES:
        require_prose(facts, str(path))
    return article, facts


# A saved page is an article when at least this many of its sentences have this many
# words: a sign-in form, a cookie wall or an index page holds only short lines
# ("Forgotten your password?", "Register now.").
_PROSE_SENTENCES = 2
_PROSE_WORDS = 6


def require_prose(facts: Sequence[Fact], name: str) -> None:
    """Raise KnowledgeError when a saved web page's facts are not an article's prose."""
    prose = sum(1 for fact in facts if fact.kind == "sentence" and len(fact.text.split()) >= _PROSE_WORDS)
    if prose < _PROSE_SENTENCES:
        raise KnowledgeError(
            f"{name}: no article text found in this web page (only short lines, as on a sign-in or index page)"
        )


def read_web_page(html: str, name: str) -> tuple[str, ArticleMeta]:
    """A saved web page's main text (trafilatura) and what it says of itself: title,
    author, date, site name and address."""
    import trafilatura

    try:
        # Dates from the page's metadata and <time> elements only: the extensive search
        # reads a footer's "© 2025" as published on 1 January 2025. A date line in the
        # text is still found by the reading stage.
        page = trafilatura.bare_extraction(
            html,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # a page the extractor cannot parse is the page's problem
        raise KnowledgeError(f"{name}: not a readable web page ({type(exc).__name__})") from None
    text = getattr(page, "text", None) if page is not None else None
    if not text or not text.strip():
        raise KnowledgeError(f"{name}: no article text found in this web page")
    meta = ArticleMeta(
        title=str(getattr(page, "title", None) or ""),
        author=str(getattr(page, "author", None) or ""),
        outlet=str(getattr(page, "sitename", None) or ""),
        published=str(getattr(page, "date", None) or ""),
        url=str(getattr(page, "url", None) or ""),
    )
    return text, meta


def load_articles(paths: list[Path]) -> list[tuple[Article, list[Fact]]]:
    return [_load_article(path) for path in paths]


def article_files(folder: Path) -> list[Path]:
    """The article files of ``folder``, checked: the folder exists, holds some, ids unique."""
    if not folder.exists():
        raise KnowledgeError(
            f"{folder.resolve()}: knowledge folder does not exist; create one with the example article by "
            "running `qabot init`, or point --knowledge or QABOT_KNOWLEDGE_DIR at your folder"
        )
    if not folder.is_dir():
        raise KnowledgeError(f"{folder}: not a folder")
    files = [Path(name) for name in file_names(folder, ARTICLE_SUFFIXES)]
    if not files:
        raise KnowledgeError(
            f"{folder.resolve()}: no articles (.txt, .md or .html files) found; add some, "
            "or run `qabot init` for an example"
        )
    seen: dict[str, Path] = {}
    for path in files:
        if path.stem in seen:
            raise KnowledgeError(f"{path}: duplicate article id '{path.stem}' (also {seen[path.stem]})")
        seen[path.stem] = path
    return files


def read_aliases(folder: Path) -> tuple[AliasGroup, ...]:
    return _read_aliases(folder / ALIASES_FILE)


def chunked(items: list[Path], workers: int) -> list[list[Path]]:
    """``items`` in a few chunks per worker, so that uneven chunks still balance."""
    size = -(-len(items) // (workers * 4))
    return [items[start : start + size] for start in range(0, len(items), size)]


def worker_pool(
    workers: int, initializer: Callable[..., object] | None = None, initargs: tuple[object, ...] = ()
) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes that end when this process does, however it ends
    (SIGTERM, SIGHUP, SIGKILL): left behind, they would wait for work forever."""
    return ProcessPoolExecutor(workers, initializer=_worker_start, initargs=(os.getpid(), initializer, initargs))


def _worker_start(parent: int, initializer: Callable[..., object] | None, initargs: tuple[object, ...]) -> None:
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        # PR_SET_PDEATHSIG: the kernel sends SIGKILL to this worker when its parent ends.
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent ended before that was set
            os._exit(1)
    if initializer is not None:
        initializer(*initargs)


def parallel_workers(files: int) -> int:
    """Worker processes for parsing this many files: one per core for a large archive."""
    return min(os.cpu_count() or 1, 8) if files >= _PARALLEL_FILES else 1


def load_knowledge(folder: Path) -> Knowledge:
    """Load every article in ``folder`` (recursively) and its alias table.

    A large archive is parsed on every core; sentence splitting is most of the work.
    """
    files = article_files(folder)
    aliases = read_aliases(folder)
    workers = parallel_workers(len(files))
    if workers > 1:
        with worker_pool(workers) as pool:
            parsed = [item for chunk in pool.map(load_articles, chunked(files, workers)) for item in chunk]
    else:
        parsed = load_articles(files)
    return assemble(parsed, aliases)


def assemble(
    parsed: list[tuple[Article, list[Fact]]],
    aliases: tuple[AliasGroup, ...],
    found: dict[str, list[str]] | None = None,
) -> Knowledge:
    """The knowledge of parsed articles, less the lines that recur across them (see
    :func:`repeated_ids`; ``found`` is their :func:`furniture`, when known)."""
    repeated = repeated_ids(furniture(parsed) if found is None else found)
    articles: dict[str, Article] = {}
    facts: list[Fact] = []
    for article, article_facts in parsed:
        kept = set_aside_repeated(article, article_facts, repeated)
        articles[kept[0].id] = kept[0]
        facts += kept[1]
    return Knowledge(articles=articles, facts=tuple(facts), aliases=aliases)


def set_aside_repeated(article: Article, facts: list[Fact], repeated: set[str]) -> tuple[Article, list[Fact]]:
    """The article with its facts among ``repeated`` set aside (kind "repeated"), and its other facts."""
    dropped = [fact for fact in facts if fact.id in repeated]
    if not dropped:
        return article, facts
    aside = [SetAside(kind=REPEATED, start=fact.start, end=fact.end) for fact in dropped]
    article = article.model_copy(update={"set_aside": (*article.set_aside, *aside)})
    return article, [fact for fact in facts if fact.id not in repeated]


# A short line (at most this many words, no sentence end) found as a paragraph of its
# own in this many articles is site furniture ("Read more", "Image source, Getty").
_REPEATED_WORDS = 8
_REPEATED_IN = 3
# How such a line is marked among an article's set-aside lines.
REPEATED = "repeated"


def furniture(parsed: list[tuple[Article, list[Fact]]]) -> dict[str, list[str]]:
    """Candidate site furniture: each short non-sentence standing alone in its paragraph,
    by its words, with the ids of the facts that hold it."""
    found: dict[str, list[str]] = {}
    for _, article_facts in parsed:
        by_paragraph: dict[int, list[Fact]] = {}
        for fact in article_facts:
            by_paragraph.setdefault(fact.paragraph, []).append(fact)
        for group in by_paragraph.values():
            fact = group[0]
            if len(group) == 1 and fact.kind == "sentence" and not reading.is_sentence(fact.text.rstrip()):
                words = fact.norm.split()
                if 0 < len(words) <= _REPEATED_WORDS:
                    found.setdefault(" ".join(words), []).append(fact.id)
    return found


def repeated_ids(found: dict[str, list[str]]) -> set[str]:
    """Ids of the candidate facts (see :func:`furniture`) whose words recur in several articles."""
    return {fact_id for ids in found.values() if recurs(ids) for fact_id in ids}


def recurs(fact_ids: list[str]) -> bool:
    """Whether a candidate line's facts stand in enough articles to be site furniture."""
    return len({fact_id.rsplit(":", 1)[0] for fact_id in fact_ids}) >= _REPEATED_IN
