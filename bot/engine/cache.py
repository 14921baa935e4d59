"""The index cache: built fact indexes kept on disk as data, so a restart skips parsing.

Each entry is a folder named by :func:`cache_key` (the knowledge files' names and
contents, the package version and this module's format number) holding ``index.json``
and ``arrays.npz``. Nothing in it runs code when loaded: JSON, and numpy arrays read
with ``allow_pickle=False``. Hashing every file of an archive takes most of a warm
start, so a small record maps the files' stat data (names, sizes, times, inodes) to the
key found for them last: a start whose files have not changed reads only the entry.
The newest few entries are kept, within a size cap, so switching between knowledge
folders does not rebuild. Entries are written to a private temporary
folder and renamed into place, so concurrent writers never share a file; anything in
doubt on reading (a damaged file, another format, a mismatch) is ignored and rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bot import __version__
from bot.engine import lexicon
from bot.engine.index import FactIndex, Phrases
from bot.engine.knowledge import (
    MAX_ARTICLE_BYTES,
    AliasGroup,
    Article,
    Fact,
    Knowledge,
    SetAside,
    file_names,
)

log = logging.getLogger(__name__)

# Bump when what an entry holds, or what the index code puts in it, changes.
FORMAT = 9
# Entries kept: the knowledge folders used most recently, and at most this many bytes.
KEEP = 4
MAX_BYTES = 2 * 1024**3

_PREFIX = "index-"
_STAT_PREFIX = "stat-"
# Files changed this recently may change again within the clock's resolution, so their
# stat data do not yet stand for their contents (git's "racy" files).
_RACY_SECONDS = 2.0
_ARTICLE_FIELDS = ("id", "title", "author", "outlet", "published", "url", "dateline", "attribution", "path", "text")
_KINDS: tuple[Literal["sentence", "caption"], ...] = ("sentence", "caption")


def cache_key(folder: Path, names: list[str] | None = None) -> str:
    """A digest of every knowledge file's name and contents and of the cache format, or
    "" when a file cannot be hashed safely (too large, unreadable): then nothing is cached
    and loading reports the problem."""
    digest = hashlib.sha256(f"{__version__}:{FORMAT}".encode())
    prefix = len(str(folder)) + 1
    for name in file_names(folder) if names is None else names:
        try:
            with open(name, "rb") as source:
                if os.fstat(source.fileno()).st_size > MAX_ARTICLE_BYTES:
                    return ""
                contents = source.read(MAX_ARTICLE_BYTES + 1)
        except OSError:
            return ""
        digest.update(name[prefix:].encode() + b"\0")
        digest.update(hashlib.sha1(contents).digest())
    return digest.hexdigest()


def load_index(folder: Path, cache_dir: Path | None) -> FactIndex:
    """The index of ``folder``: from the cache when its files are unchanged, else built
    (and then cached, when ``cache_dir`` is given)."""
    if cache_dir is None or not folder.is_dir():
        return FactIndex.from_folder(folder)  # which says what is wrong with a missing folder
    names = file_names(folder)  # walked once, for both keys
    quick, newest = stat_key(folder, names)
    key = _recalled(cache_dir, quick) or cache_key(folder, names)
    entry = cache_dir / f"{_PREFIX}{key}"
    # Files changed in the last moments may change again unseen by their stat data.
    settled = time.time() - newest > _RACY_SECONDS
    if key and entry.is_dir():
        try:
            index = read_entry(entry)
        except Exception as exc:  # a damaged or foreign entry is rebuilt, never trusted
            log.warning("ignoring the unreadable index cache %s: %s", entry, exc)
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.utime(entry)  # most recently used
                if settled:
                    _remember(cache_dir, quick, key)
            lexicon.preload(index.lexicon)
            return index
    index = FactIndex.from_folder(folder)
    if key:
        index.lexicon = lexicon.table(index.words)
        try:
            write_entry(cache_dir, entry.name, index)
            if settled:
                _remember(cache_dir, quick, key)
            prune(cache_dir)
        except OSError as exc:
            log.warning("could not write the index cache in %s: %s", cache_dir, exc)
    return index


def stat_key(folder: Path, names: list[str] | None = None) -> tuple[str, float]:
    """A digest of every knowledge file's name, size, modification time and inode, and
    the newest modification time: a quick stand-in for :func:`cache_key`, as git's index
    stands in for hashing the work tree."""
    digest = hashlib.sha256(f"{__version__}:{FORMAT}:{folder.resolve()}".encode())
    prefix = len(str(folder)) + 1
    newest = 0.0
    for name in file_names(folder) if names is None else names:
        try:
            info = os.stat(name)
        except OSError:
            return "", time.time()
        digest.update(f"{name[prefix:]}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ino}\0{info.st_dev}\n".encode())
        newest = max(newest, info.st_mtime)
    return digest.hexdigest(), newest


def _recalled(cache_dir: Path, quick: str) -> str:
    """The content key last found for files with these stat data, or ""."""
    if not quick:
        return ""
    try:
        key = (cache_dir / f"{_STAT_PREFIX}{quick}").read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return key if re.fullmatch(r"[0-9a-f]{64}", key) else ""


def _remember(cache_dir: Path, quick: str, key: str) -> None:
    if quick:
        partial = cache_dir / f".{_STAT_PREFIX}{quick}.{os.getpid()}"
        partial.write_text(key, encoding="ascii")
        partial.replace(cache_dir / f"{_STAT_PREFIX}{quick}")


def write_entry(cache_dir: Path, name: str, index: FactIndex) -> None:
    """Write ``index`` as entry ``name``: into a private folder first, then renamed."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=cache_dir))
    try:
        knowledge = index.knowledge
        facts = knowledge.facts
        terms = list(index.postings)
        document: dict[str, Any] = {
            "format": FORMAT,
            "version": __version__,
            "articles": [
                [*(getattr(article, f) for f in _ARTICLE_FIELDS), [[a.kind, a.start, a.end] for a in article.set_aside]]
                for article in knowledge.articles.values()
            ],
            "aliases": [[list(group.phrases), group.related] for group in knowledge.aliases],
            # Alias phrases as lemmas: rebuilding them would load the lemmatizer.
            "phrases": [[list(key), concepts] for key, concepts in index.phrases.concepts.items()],
            "match_texts": index.match_texts,
            "terms": terms,
            "words": sorted(index.words),
            "names": sorted(index.names),
            "lexicon": index.lexicon,
        }
        (partial / "index.json").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        lengths = np.array([len(index.postings[term]) for term in terms], dtype=np.int64)
        postings = np.concatenate([index.postings[term] for term in terms]) if terms else np.zeros(0, np.int32)
        numbers = {article_id: number for number, article_id in enumerate(knowledge.articles)}
        arrays: dict[str, Any] = {
            "types": index.types,
            "context": index.context,
            "postings": postings,
            "lengths": lengths,
            "article": np.array([numbers[fact.article_id] for fact in facts], dtype=np.int32),
            "paragraph": np.array([fact.paragraph for fact in facts], dtype=np.int32),
            "sentence": np.array([fact.sentence for fact in facts], dtype=np.int32),
            "kind": np.array([_KINDS.index(fact.kind) for fact in facts], dtype=np.uint8),
            "start": np.array([fact.start for fact in facts], dtype=np.int64),
            "end": np.array([fact.end for fact in facts], dtype=np.int64),
        }
        with (partial / "arrays.npz").open("wb") as target:
            np.savez(target, **arrays)
        try:
            os.rename(partial, cache_dir / name)
        except OSError:
            if not (cache_dir / name).is_dir():
                raise
            # Another process wrote the same entry first; theirs is as good as ours.
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def read_entry(entry: Path) -> FactIndex:
    """The index stored in ``entry``; raises on anything unexpected."""
    # Decoded here: json.loads(bytes) decodes with "surrogatepass", three times slower.
    document = json.loads((entry / "index.json").read_bytes().decode("utf-8"))
    if document.get("format") != FORMAT or document.get("version") != __version__:
        raise ValueError("written by another version")
    with np.load(entry / "arrays.npz", allow_pickle=False) as arrays:
        types, context = arrays["types"], arrays["context"]
        postings, lengths = arrays["postings"], arrays["lengths"]
        columns = [arrays[name].tolist() for name in ("article", "paragraph", "sentence", "kind", "start", "end")]
    articles = {}
    for *values, aside in document["articles"]:
        article = Article.model_construct(
            **dict(zip(_ARTICLE_FIELDS, values, strict=True)),
            set_aside=tuple(SetAside.model_construct(kind=kind, start=start, end=end) for kind, start, end in aside),
        )
        articles[article.id] = article
    ordered = list(articles.values())
    facts = [
        Fact.trusted(ordered[a].id, paragraph, sentence, _KINDS[kind], start, end, ordered[a].text[start:end])
        for a, paragraph, sentence, kind, start, end in zip(*columns, strict=True)
    ]
    aliases = tuple(AliasGroup(phrases=tuple(phrases), related=related) for phrases, related in document["aliases"])
    knowledge = Knowledge.model_construct(articles=articles, facts=tuple(facts), aliases=aliases)
    terms: list[str] = document["terms"]
    if len(terms) != len(lengths) or int(lengths.sum()) != len(postings) or len(types) != len(facts):
        raise ValueError("inconsistent arrays")
    ends = np.cumsum(lengths)
    starts = ends - lengths
    index = FactIndex(
        knowledge=knowledge,
        phrases=Phrases.from_concepts(
            {
                tuple(key): [(concept, float(strength)) for concept, strength in found]
                for key, found in document["phrases"]
            }
        ),
        match_texts=document["match_texts"],
        types=types,
        context=context,
        postings={term: postings[s:e] for term, s, e in zip(terms, starts.tolist(), ends.tolist(), strict=True)},
        words=set(document["words"]),
        names=frozenset(document["names"]),
        lexicon={word: (lemma, float(zipf)) for word, (lemma, zipf) in document["lexicon"].items()},
    )
    return index


def prune(cache_dir: Path) -> None:
    """Keep the :data:`KEEP` most recently used entries, within :data:`MAX_BYTES`."""
    entries = []
    for path in cache_dir.glob(f"{_PREFIX}*"):
        with contextlib.suppress(OSError):
            size = sum(item.stat().st_size for item in path.iterdir())
            entries.append((path.stat().st_mtime, size, path))
    entries.sort(reverse=True)
    total = 0
    for number, (_, size, path) in enumerate(entries):
        total += size
        if number >= KEEP or (number > 0 and total > MAX_BYTES):
            shutil.rmtree(path, ignore_errors=True)
    # Stat records of entries gone, and older caches (single pickle files, never read again).
    for record in cache_dir.glob(f"{_STAT_PREFIX}*"):
        if not (cache_dir / f"{_PREFIX}{_recalled(cache_dir, record.name[len(_STAT_PREFIX) :])}").is_dir():
            record.unlink(missing_ok=True)
    for old in cache_dir.glob("index-*.pickle"):
        old.unlink(missing_ok=True)
