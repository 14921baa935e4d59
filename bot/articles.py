"""Adding and removing articles in a knowledge folder, for ``qabot add``/``remove`` and
Discord's ``/article`` commands.

An article is checked before it is written: its type and size, UTF-8 text, an id no
other article has, and at least one sentence read from it. It is then written under a
hidden temporary name and renamed into place, so a loader never sees half a file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

from bot.engine.folder import file_names, read_web_page, require_prose
from bot.engine.knowledge import ARTICLE_SUFFIXES, META_SUFFIX, WEB_PAGE_SUFFIXES, Article, Fact, KnowledgeError
from bot.engine.parsing import parse_article
from bot.engine.text import printable

# The longest article id made from a file name.
_ID_CHARS = 80
# Adding and removing hold this lock file in the knowledge folder, so two at once (two
# `qabot add`, or /article add beside the command line) check and write one after the other.
LOCK_FILE = ".qabot.lock"
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold the knowledge folder's lock (``fcntl.flock`` on :data:`LOCK_FILE`)."""
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        raise _write_error(folder, exc) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _write_error(folder: Path, exc: OSError) -> KnowledgeError:
    if exc.errno in _READ_ONLY:
        return KnowledgeError(f"{folder.resolve()}: the knowledge folder is read-only; articles cannot be changed")
    return KnowledgeError(f"{folder.resolve()}: cannot be written ({exc.strerror})")


def article_id_for(name: str) -> str:
    """An article id from a file name: lower case letters, digits and dashes."""
    stem = Path(name).name
    for suffix in ARTICLE_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    found = re.sub(r"[^a-z0-9]+", "-", stem.casefold()).strip("-")[:_ID_CHARS].strip("-")
    return found or "article"


def read_article(name: str, data: bytes, *, limit: int) -> tuple[Article, list[Fact]]:
    """``data`` (a file called ``name``) read as an article, with every check ``add``
    makes but the folder's: its type and size, UTF-8 text, at least one sentence. Raises
    KnowledgeError saying what is wrong."""
    suffix = Path(name).suffix.lower()
    if suffix not in ARTICLE_SUFFIXES:
        allowed = ", ".join(ARTICLE_SUFFIXES)
        raise KnowledgeError(f"{name}: not an article file; send one of {allowed}")
    if len(data) > limit:
        raise KnowledgeError(f"{name}: {len(data):,} bytes; the limit is {limit:,}")
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KnowledgeError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    if "\x00" in raw or not raw.strip():
        raise KnowledgeError(f"{name}: empty, or not text")
    article_id = article_id_for(name)
    text, meta = read_web_page(raw, name) if suffix in WEB_PAGE_SUFFIXES else (raw, None)
    article, facts = parse_article(article_id, text, meta)
    if not facts:
        raise KnowledgeError(f"{name}: no sentences found in it")
    if suffix in WEB_PAGE_SUFFIXES:
        require_prose(facts, name)
    return article, facts


def add_article(folder: Path, name: str, data: bytes, *, limit: int) -> tuple[str, int]:
    """Check ``data`` (a file called ``name``) as an article and write it into ``folder``;
    returns its id and how many facts it holds. Raises KnowledgeError saying what is wrong."""
    suffix = Path(name).suffix.lower()
    if not folder.is_dir():
        raise KnowledgeError(f"{folder.resolve()}: knowledge folder does not exist (QABOT_KNOWLEDGE_DIR)")
    article, facts = read_article(name, data, limit=limit)
    article_id = article.id
    with folder_lock(folder):
        # Checked under the lock: another add of the same id waits, then finds it taken.
        taken = [path for path in file_names(folder, ARTICLE_SUFFIXES) if _stem(path) == article_id]
        if taken:
            raise KnowledgeError(f"an article '{article_id}' exists already ({taken[0]}); remove it first")
        target = folder / f"{article_id}{suffix}"
        partial = folder / f".{article_id}.{secrets.token_hex(4)}.partial"
        try:
            partial.write_bytes(data)
            # A link never replaces a file: one put there by hand meanwhile is kept.
            os.link(partial, target)
        except FileExistsError:
            raise KnowledgeError(f"an article '{article_id}' exists already ({target}); remove it first") from None
        except OSError as exc:
            raise _write_error(folder, exc) from None
        finally:
            with contextlib.suppress(OSError):
                partial.unlink()
    return article_id, len(facts)


def remove_article(folder: Path, article_id: str) -> list[Path]:
    """Delete the article ``article_id`` (and its metadata file) from ``folder``; returns
    the files removed. Raises KnowledgeError when there is no such article."""
    if not folder.is_dir():
        raise KnowledgeError(f"{folder.resolve()}: knowledge folder does not exist (QABOT_KNOWLEDGE_DIR)")
    with folder_lock(folder):
        names = file_names(folder, (*ARTICLE_SUFFIXES, META_SUFFIX))
        found = [Path(path) for path in names if _stem(path) == article_id]
        if not found:
            # An id as printed: a file name holding escape sequences is shown without them.
            stems = {_stem(path) for path in names if printable(_stem(path)) == article_id}
            if len(stems) == 1:
                found = [Path(path) for path in names if _stem(path) in stems]
        if not any(path.name.lower().endswith(ARTICLE_SUFFIXES) for path in found):
            raise KnowledgeError(f"no article '{article_id}' in {folder.resolve()}")
        for path in found:
            try:
                path.unlink()
            except OSError as exc:
                if exc.errno in _READ_ONLY:
                    raise _write_error(folder, exc) from None
                raise KnowledgeError(f"{path}: cannot be removed ({exc.strerror})") from None
    return found


def _stem(path: str | Path) -> str:
    name = Path(path).name
    for suffix in (META_SUFFIX, *ARTICLE_SUFFIXES):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name
