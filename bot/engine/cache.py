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
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from bot import __version__
from bot.engine import lexicon, update
from bot.engine.folder import file_names
from bot.engine.index import FactIndex, Phrases, Sources, Texts
from bot.engine.knowledge import (
    ALIASES_FILE,
    ARTICLE_SUFFIXES,
    MAX_ARTICLE_BYTES,
    META_SUFFIX,
    AliasGroup,
    Article,
    FactTable,
    Knowledge,
    KnowledgeError,
    SetAside,
)

log = logging.getLogger(__name__)

# Bump when what an entry holds, or what the index code puts in it, changes.
FORMAT = 15
# Entries kept: the knowledge folders used most recently, and at most this many bytes.
KEEP = 4
MAX_BYTES = 2 * 1024**3

_PREFIX = "index-"
_STAT_PREFIX = "stat-"
_BASE_PREFIX = "base-"
# Patching: at most this many articles changed (or this share of the files) is patched
# in; from this many on (or in a small knowledge base) the result is written as an entry.
_PATCH_MIN = 200
_PATCH_SHARE = 0.05
_MERGE_AT = 32
_SLOW_PATCH_SECONDS = 1.0
_SMALL_FACTS = 5_000
# Files changed this recently may change again within the clock's resolution, so their
# stat data do not yet stand for their contents (git's "racy" files).
_RACY_SECONDS = 2.0
# Each entry's JSON files' SHA-256 digests, checked on reading.
_DIGESTS = "digests.json"
# Temporary files and folders of a write that was killed are removed after this long (a
# write in progress takes seconds).
_STALE_SECONDS = 3600.0
_COLUMNS = ("article", "paragraph", "sentence", "kind", "start", "end")
# The articles' fields kept in index.json; their texts are kept in arrays.npz.
_ARTICLE_FIELDS = ("id", "title", "author", "outlet", "published", "url", "dateline", "attribution", "path")


def _open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading when it is a regular file; a FIFO, device or folder in
    its place raises OSError at once instead of blocking the read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_bytes(path: Path) -> bytes:
    with _open_regular(path) as source:
        return source.read()


def _read_checked(entry: Path, name: str) -> bytes:
    """A JSON file of ``entry``, checked against the digest written beside it: an entry
    edited or damaged after it was written is not trusted."""
    data = _read_bytes(entry / name)
    expected = json.loads(_read_bytes(entry / _DIGESTS).decode("ascii")).get(name)
    if expected != hashlib.sha256(data).hexdigest():
        raise ValueError(f"{name} does not match its digest")
    return data


def cache_key(folder: Path, names: list[str] | None = None) -> str:
    """A digest of every knowledge file's name and contents and of the cache format, or
    "" when a file cannot be hashed safely (too large, unreadable): then nothing is cached
    and loading reports the problem."""
    digests = file_digests(folder, file_names(folder) if names is None else names)
    return "" if digests is None else key_of(digests)


def key_of(digests: list[tuple[str, str]]) -> str:
    """The cache key of files by their names (inside the folder) and SHA-1 digests."""
    digest = hashlib.sha256(f"{__version__}:{FORMAT}".encode())
    for name, sha1 in digests:
        digest.update(name.encode() + b"\0")
        digest.update(bytes.fromhex(sha1))
    return digest.hexdigest()


def _sha1(name: str) -> str | None:
    try:
        with open(name, "rb") as source:
            if os.fstat(source.fileno()).st_size > MAX_ARTICLE_BYTES:
                return None
            return hashlib.sha1(source.read(MAX_ARTICLE_BYTES + 1)).hexdigest()
    except OSError:
        return None


def file_digests(folder: Path, names: list[str]) -> list[tuple[str, str]] | None:
    """Each file's name inside ``folder`` and SHA-1 digest; None when one cannot be read."""
    prefix = len(str(folder)) + 1
    found = []
    for name in names:
        sha1 = _sha1(name)
        if sha1 is None:
            return None
        found.append((name[prefix:], sha1))
    return found


# size, modification time (ns), change time (ns), inode, device. The change time moves
# on every write and cannot be set back, so an edit that keeps the size and resets the
# modification time is still seen (git's index keeps it for the same reason).
Stat = tuple[int, int, int, int, int]


def file_stats(names: list[str]) -> list[Stat] | None:
    """Each file's size, modification and change times, inode and device; None when one
    is gone."""
    found = []
    for name in names:
        try:
            info = os.stat(name)
        except OSError:
            return None
        found.append((info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev))
    return found


def _unchanged(names: list[str], stats: list[Stat]) -> bool:
    """Whether the files still have the stat data taken before they were hashed and read:
    only then do the digests stand for what was parsed."""
    return file_stats(names) == stats


def load_index(folder: Path, cache_dir: Path | None) -> FactIndex:
    """The index of ``folder``: from the cache when its files are unchanged, patched from
    the folder's last cached index when a few articles changed, else built (and then
    cached, when ``cache_dir`` is given)."""
    if cache_dir is None or not folder.is_dir():
        return FactIndex.from_folder(folder)  # which says what is wrong with a missing folder
    lexicon.keep_dictionary_in(cache_dir)
    names = file_names(folder)  # walked once, for every key
    stats = file_stats(names)
    quick, newest = stat_key(folder, names, stats)
    # Files changed in the last moments may change again unseen by their stat data.
    settled = time.time() - newest > _RACY_SECONDS
    key = _recalled(cache_dir, quick)
    if key:
        index = _read(cache_dir / f"{_PREFIX}{key}")
        if index is not None:
            if settled:
                with contextlib.suppress(OSError):
                    _remember(cache_dir, quick, key)
            return index
    digests = None
    if stats is not None:
        try:
            found = _patched(folder, cache_dir, names, stats)
        except KnowledgeError:
            raise
        except Exception as exc:  # a damaged or foreign base is rebuilt from, never trusted
            log.warning("could not patch the cached index in %s: %s", cache_dir, exc)
            found = None
        if found is not None:
            index, digests, written = found
            if written and settled:
                with contextlib.suppress(OSError):
                    _remember(cache_dir, quick, key_of(digests))
            if index is not None:
                return index
    if digests is None:
        digests = file_digests(folder, names)
    key = "" if digests is None else key_of(digests)
    if key:
        index = _read(cache_dir / f"{_PREFIX}{key}")
        if index is not None:
            return index
    index = FactIndex.from_folder(folder)
    # A file written while it was hashed or parsed: what was parsed may not be what was
    # hashed, so it is not cached under that key (the next start builds again).
    if key and digests is not None and stats is not None and _unchanged(names, stats):
        index.lexicon = lexicon.table(index.words)
        try:
            _store(cache_dir, folder, key, index, names, stats, digests)
            if settled:
                _remember(cache_dir, quick, key)
            # For the next patch: new words are looked up without loading the whole dictionary.
            lexicon.save_dictionary(cache_dir)
        except OSError as exc:
            log.warning("could not write the index cache in %s: %s", cache_dir, exc)
    return index


def _read(entry: Path) -> FactIndex | None:
    """The index kept in ``entry``, marked most recently used; None when there is none."""
    if not entry.is_dir():
        return None
    try:
        index = read_entry(entry)
    except KnowledgeError:
        raise  # the load timeout, which says nothing of the entry: it stays
    except Exception as exc:  # a damaged or foreign entry is rebuilt, never trusted
        log.warning("ignoring the unreadable index cache %s: %s", entry, exc)
        shutil.rmtree(entry, ignore_errors=True)
        return None
    with contextlib.suppress(OSError):
        os.utime(entry)  # most recently used
    lexicon.preload(index.lexicon)
    return index


def _store(
    cache_dir: Path,
    folder: Path,
    key: str,
    index: FactIndex,
    names: list[str],
    stats: list[Stat],
    digests: list[tuple[str, str]],
) -> None:
    """Write ``index`` as the entry of ``key`` and as ``folder``'s base for patching."""
    files = [[name, *stat, sha1] for (name, sha1), stat in zip(digests, stats, strict=True)]
    write_entry(cache_dir, f"{_PREFIX}{key}", index, files)
    partial = cache_dir / f".{_base_name(folder)}.{os.getpid()}"
    partial.write_text(f"{_PREFIX}{key}", encoding="ascii")
    partial.replace(cache_dir / _base_name(folder))
    prune(cache_dir)


def _base_name(folder: Path) -> str:
    return _BASE_PREFIX + hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:40]


def _patched(
    folder: Path, cache_dir: Path, names: list[str], stats: list[Stat]
) -> tuple[FactIndex | None, list[tuple[str, str]], bool] | None:
    """The folder's last cached index patched with the articles changed since (see
    ``bot.engine.update``), the files' digests, and whether it was written as an entry
    of its own. None when there is no base to patch, or too much changed; the index is
    None when the change cannot be patched in."""
    try:
        base_entry = cache_dir / _read_bytes(cache_dir / _base_name(folder)).decode("ascii").strip()
        recorded = json.loads(_read_checked(base_entry, "sources.json").decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if recorded.get("format") != FORMAT or recorded.get("version") != __version__:
        return None
    written = float(recorded["written"])
    table = {row[0]: (tuple(row[1:6]), row[6]) for row in recorded["files"]}
    prefix = len(str(folder)) + 1
    digests: list[tuple[str, str]] = []
    changed: set[str] = set()
    for name, info in zip(names, stats, strict=True):
        relative = name[prefix:]
        old = table.get(relative)
        # Files changed close to when the base was written may have changed unseen.
        if old is not None and old[0] == info and info[2] / 1e9 < written - _RACY_SECONDS:
            digests.append((relative, old[1]))
            continue
        sha1 = _sha1(name)
        if sha1 is None:
            return None
        digests.append((relative, sha1))
        if old is None or old[1] != sha1:
            changed.add(relative)
    changed |= set(table) - {relative for relative, _ in digests}
    if ALIASES_FILE in changed:
        return None
    if not changed:
        return _read(base_entry), digests, True
    # Strings, not Path objects: an archive has tens of thousands of files.
    articles = [name for name in names if name.lower().endswith(ARTICLE_SUFFIXES)]
    order = [os.path.splitext(os.path.basename(name))[0] for name in articles]
    stems = dict(zip(order, articles, strict=True))
    affected = {_article_stem(relative) for relative in changed}
    if len(affected) > max(_PATCH_MIN, len(table) * _PATCH_SHARE):
        return None  # so much changed that a rebuild on every core is as quick
    if not order or len(set(order)) < len(order):
        return None  # no articles, or duplicate ids: the full build says what is wrong
    base = _read(base_entry)
    if base is None:
        return None
    base.sources = sources_from(recorded)
    started = time.perf_counter()
    index = update.patch(base, order, [Path(stems[stem]) for stem in sorted(affected) if stem in stems], affected)
    if index is None:
        return None, digests, False
    # Written as an entry of its own when that is cheaper than patching again at every
    # start: many articles changed, a small knowledge base, or a patch that was slow (one
    # large article added to a big archive would otherwise be parsed at every start).
    merge = (
        len(affected) >= _MERGE_AT
        or len(index.knowledge.facts) < _SMALL_FACTS
        or time.perf_counter() - started >= _SLOW_PATCH_SECONDS
    )
    if merge and not _unchanged(names, stats):
        merge = False  # a file written while it was read: this run uses it, nothing keeps it
    if merge:
        with contextlib.suppress(OSError):
            _store(cache_dir, folder, key_of(digests), index, names, stats, digests)
    return index, digests, merge


def _article_stem(relative: str) -> str:
    """The id of the article a knowledge file belongs to (its metadata file's too)."""
    name = Path(relative).name
    if name.lower().endswith(META_SUFFIX):
        return name[: -len(META_SUFFIX)]
    return Path(name).stem


def sources_from(recorded: dict[str, Any]) -> Sources:
    return Sources(
        words=Counter(recorded["words"]),
        capitalized=Counter(recorded["capitalized"]),
        lower=Counter(recorded["lower"]),
        furniture={key: list(ids) for key, ids in recorded["furniture"].items()},
    )


def stat_key(folder: Path, names: list[str] | None = None, stats: list[Stat] | None = None) -> tuple[str, float]:
    """A digest of every knowledge file's name, size, modification time and inode, and
    the newest modification time: a quick stand-in for :func:`cache_key`, as git's index
    stands in for hashing the work tree."""
    names = file_names(folder) if names is None else names
    stats = file_stats(names) if stats is None else stats
    if stats is None:
        return "", time.time()
    digest = hashlib.sha256(f"{__version__}:{FORMAT}:{folder.resolve()}".encode())
    prefix = len(str(folder)) + 1
    newest = 0
    for name, (size, mtime, ctime, inode, device) in zip(names, stats, strict=True):
        digest.update(f"{name[prefix:]}\0{size}\0{mtime}\0{ctime}\0{inode}\0{device}\n".encode())
        newest = max(newest, mtime, ctime)
    return digest.hexdigest(), newest / 1e9


def _recalled(cache_dir: Path, quick: str) -> str:
    """The content key last found for files with these stat data, or ""."""
    if not quick:
        return ""
    try:
        key = _read_bytes(cache_dir / f"{_STAT_PREFIX}{quick}").decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return key if re.fullmatch(r"[0-9a-f]{64}", key) else ""


def _remember(cache_dir: Path, quick: str, key: str) -> None:
    if quick:
        partial = cache_dir / f".{_STAT_PREFIX}{quick}.{os.getpid()}"
        partial.write_text(key, encoding="ascii")
        partial.replace(cache_dir / f"{_STAT_PREFIX}{quick}")


def write_entry(cache_dir: Path, name: str, index: FactIndex, files: list[list[Any]] | None = None) -> None:
    """Write ``index`` as entry ``name``: into a private folder first, then renamed.
    With the knowledge files' table (name, size, time, inode, device, SHA-1) and the
    index's sources, the entry can later be patched (``sources.json``)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=cache_dir))
    try:
        knowledge = index.knowledge
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
            "terms": terms,
            "words": sorted(index.words),
            "names": sorted(index.names),
            # As three lists: a dict of them is made in C on reading.
            "lexicon": [
                list(index.lexicon),
                [lemma for lemma, _ in index.lexicon.values()],
                [zipf for _, zipf in index.lexicon.values()],
            ],
        }
        digests: dict[str, str] = {}

        def write_json(name: str, value: object) -> None:
            data = json.dumps(value, ensure_ascii=False).encode("utf-8")
            (partial / name).write_bytes(data)
            digests[name] = hashlib.sha256(data).hexdigest()

        write_json("index.json", document)
        if files is not None and index.sources is not None:
            sources = index.sources
            recorded = {
                "format": FORMAT,
                "version": __version__,
                "written": time.time(),
                "files": files,
                "words": dict(sources.words),
                "capitalized": dict(sources.capitalized),
                "lower": dict(sources.lower),
                "furniture": sources.furniture,
            }
            write_json("sources.json", recorded)
        (partial / _DIGESTS).write_text(json.dumps(digests), encoding="ascii")
        lengths = np.array([len(index.postings[term]) for term in terms], dtype=np.int64)
        if index.postings_flat is not None:
            postings = index.postings_flat
        elif terms:
            postings = np.concatenate([index.postings[term] for term in terms])
        else:
            postings = np.zeros(0, np.int32)
        columns = update.fact_columns(knowledge)
        # Texts as UTF-8 bytes end to end, read back without JSON's decoding and parsing.
        texts = [article.text for article in knowledge.articles.values()]
        matches = index.match_texts if isinstance(index.match_texts, Texts) else Texts.of(index.match_texts)
        arrays: dict[str, Any] = {
            "article_texts": np.frombuffer("".join(texts).encode("utf-8"), dtype=np.uint8),
            "article_ends": np.cumsum([len(text) for text in texts], dtype=np.int64),
            "match_texts": np.frombuffer(matches.blob, dtype=np.uint8),
            "match_ends": np.array(matches.ends, dtype=np.int64),
            "types": index.types,
            "context": index.context,
            "postings": postings,
            "lengths": lengths,
            **dict(zip(_COLUMNS, columns, strict=True)),
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
    document = json.loads(_read_checked(entry, "index.json").decode("utf-8"))
    if document.get("format") != FORMAT or document.get("version") != __version__:
        raise ValueError("written by another version")
    # The zip's own CRCs check the arrays as they are read.
    with _open_regular(entry / "arrays.npz") as source, np.load(source, allow_pickle=False) as arrays:
        types, context = arrays["types"], arrays["context"]
        postings, lengths = arrays["postings"], arrays["lengths"]
        columns = [arrays[name] for name in _COLUMNS]
        article_texts, article_ends = arrays["article_texts"].tobytes().decode("utf-8"), arrays["article_ends"]
        match_texts = Texts(arrays["match_texts"].tobytes(), arrays["match_ends"].tolist())
    if len(article_ends) != len(document["articles"]) or (len(article_ends) and article_ends[-1] != len(article_texts)):
        raise ValueError("inconsistent texts")
    articles = {}
    text_starts = [0, *article_ends.tolist()]
    for number, (*values, aside) in enumerate(document["articles"]):
        fields: dict[str, object] = dict(zip(_ARTICLE_FIELDS, values, strict=True))
        fields["text"] = article_texts[text_starts[number] : text_starts[number + 1]]
        fields["set_aside"] = tuple(SetAside.model_construct(kind=k, start=s, end=e) for k, s, e in aside)
        article = Article.trusted(fields)
        articles[article.id] = article
    facts = FactTable(list(articles.values()), columns)
    aliases = tuple(AliasGroup(phrases=tuple(phrases), related=related) for phrases, related in document["aliases"])
    knowledge = Knowledge.model_construct(articles=articles, facts=facts, aliases=aliases)
    terms: list[str] = document["terms"]
    words, lemmas, zipfs = document["lexicon"]
    if (
        len(terms) != len(lengths)
        or int(lengths.sum()) != len(postings)
        or len(types) != len(facts)
        or len(match_texts) != len(facts)
    ):
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
        match_texts=match_texts,
        types=types,
        context=context,
        postings={term: postings[s:e] for term, s, e in zip(terms, starts.tolist(), ends.tolist(), strict=True)},
        postings_flat=postings,
        words=set(document["words"]),
        names=frozenset(document["names"]),
        lexicon=dict(zip(words, zip(lemmas, map(float, zipfs), strict=True), strict=True)),
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
    for record in cache_dir.glob(f"{_BASE_PREFIX}*"):
        with contextlib.suppress(OSError):
            if not (cache_dir / record.read_text(encoding="ascii").strip()).is_dir():
                record.unlink(missing_ok=True)
    # Stat records of entries gone, and older caches (single pickle files, never read again).
    for record in cache_dir.glob(f"{_STAT_PREFIX}*"):
        if not (cache_dir / f"{_PREFIX}{_recalled(cache_dir, record.name[len(_STAT_PREFIX) :])}").is_dir():
            record.unlink(missing_ok=True)
    for old in cache_dir.glob("index-*.pickle"):
        old.unlink(missing_ok=True)
    # What killed writes left: private folders and records not yet renamed into place.
    now = time.time()
    for leftover in cache_dir.glob(".*"):
        with contextlib.suppress(OSError):
            info = leftover.lstat()
            if now - info.st_mtime < _STALE_SECONDS:
                continue
            if stat.S_ISDIR(info.st_mode) and leftover.name.startswith((f".{_PREFIX}", ".dictionary.")):
                shutil.rmtree(leftover, ignore_errors=True)
            elif leftover.name.startswith((f".{_STAT_PREFIX}", f".{_BASE_PREFIX}")):
                leftover.unlink(missing_ok=True)
