"""The knowledge folder: articles on disk read into a :class:`Knowledge`.

An article is a UTF-8 ``.txt`` or ``.md`` file, or a saved web page, with an optional
``<id>.meta.toml`` beside it (title, author, outlet, published, url); ``aliases.toml``
holds the curated term equivalences. Only regular files are read, each within a size
limit; a large archive is parsed on every core. Every problem is raised as
:class:`KnowledgeError` naming the file.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pydantic import ValidationError

from bot.engine.errors import KnowledgeError
from bot.engine.furniture import assemble
from bot.engine.knowledge import (
    ALIASES_FILE,
    ARTICLE_SUFFIXES,
    MAX_ARTICLE_BYTES,
    META_SUFFIX,
    WEB_PAGE_SUFFIXES,
    AliasGroup,
    Article,
    ArticleMeta,
    Fact,
    Knowledge,
)
from bot.engine.parsing import parse_article

# From this many files on, articles are parsed in worker processes, one per core.
_PARALLEL_FILES = 500


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


# A figure with its caption: the extractor drops figures, so each becomes a paragraph
# labelled as a caption, which the reading stage makes a caption fact (without the label).
_FIGURE = re.compile(r"<figure\b[^>]{0,2000}>(.{0,20000}?)</figure\s*>", re.IGNORECASE | re.DOTALL)
_FIGCAPTION = re.compile(r"<figcaption\b[^>]{0,2000}>(.{0,5000}?)</figcaption\s*>", re.IGNORECASE | re.DOTALL)
_ANY_TAG = re.compile(r"<[^<>]{0,2000}>")


def _figure_as_caption(figure: re.Match[str]) -> str:
    caption = _FIGCAPTION.search(figure.group(1))
    text = " ".join(_ANY_TAG.sub(" ", caption.group(1)).split()) if caption else ""
    return f"<p>Image caption, {text}</p>" if text else ""


def read_web_page(html: str, name: str) -> tuple[str, ArticleMeta]:
    """A saved web page's main text (trafilatura) and what it says of itself: title,
    author, date, site name and address."""
    import trafilatura

    html = _FIGURE.sub(_figure_as_caption, html)
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
