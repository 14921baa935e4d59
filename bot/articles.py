"""Adding and removing articles in a knowledge folder, for ``qabot add``/``remove`` and
Discord's ``/article`` commands.

An article is checked before it is written: its type and size, UTF-8 text, an id no
other article has, and at least one sentence read from it. It is then written under a
hidden temporary name and renamed into place, so a loader never sees half a file.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from bot.engine.knowledge import (
    ARTICLE_SUFFIXES,
    META_SUFFIX,
    WEB_PAGE_SUFFIXES,
    KnowledgeError,
    file_names,
    parse_article,
    read_web_page,
)

# The longest article id made from a file name.
_ID_CHARS = 80


def article_id_for(name: str) -> str:
    """An article id from a file name: lower case letters, digits and dashes."""
    stem = Path(name).name
    for suffix in ARTICLE_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    found = re.sub(r"[^a-z0-9]+", "-", stem.casefold()).strip("-")[:_ID_CHARS].strip("-")
    return found or "article"


def add_article(folder: Path, name: str, data: bytes, *, limit: int) -> tuple[str, int]:
    """Check ``data`` (a file called ``name``) as an article and write it into ``folder``;
    returns its id and how many facts it holds. Raises KnowledgeError saying what is wrong."""
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
    if not folder.is_dir():
        raise KnowledgeError(f"{folder.resolve()}: knowledge folder does not exist (QABOT_KNOWLEDGE_DIR)")
    taken = [path for path in file_names(folder, ARTICLE_SUFFIXES) if _stem(path) == article_id]
    if taken:
        raise KnowledgeError(f"an article '{article_id}' exists already ({taken[0]}); remove it first")
    text, meta = read_web_page(raw, name) if suffix in WEB_PAGE_SUFFIXES else (raw, None)
    _, facts = parse_article(article_id, text, meta)
    if not facts:
        raise KnowledgeError(f"{name}: no sentences found in it")
    target = folder / f"{article_id}{suffix}"
    partial = folder / f".{article_id}.{secrets.token_hex(4)}.partial"
    try:
        partial.write_bytes(data)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise KnowledgeError(f"{target.resolve()}: cannot be written ({exc.strerror})") from None
    return article_id, len(facts)


def remove_article(folder: Path, article_id: str) -> list[Path]:
    """Delete the article ``article_id`` (and its metadata file) from ``folder``; returns
    the files removed. Raises KnowledgeError when there is no such article."""
    if not folder.is_dir():
        raise KnowledgeError(f"{folder.resolve()}: knowledge folder does not exist (QABOT_KNOWLEDGE_DIR)")
    found = [Path(path) for path in file_names(folder, (*ARTICLE_SUFFIXES, META_SUFFIX)) if _stem(path) == article_id]
    if not any(path.name.endswith(ARTICLE_SUFFIXES) for path in found):
        raise KnowledgeError(f"no article '{article_id}' in {folder.resolve()}")
    for path in found:
        try:
            path.unlink()
        except OSError as exc:
            raise KnowledgeError(f"{path}: cannot be removed ({exc.strerror})") from None
    return found


def _stem(path: str | Path) -> str:
    name = Path(path).name
    for suffix in (META_SUFFIX, *ARTICLE_SUFFIXES):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name
