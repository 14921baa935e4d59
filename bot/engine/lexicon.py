"""English word knowledge for matching: lemmas (simplemma) and general word frequency (wordfreq).

A single article holds about ten facts, so counting documents says little about which
words matter; general English frequency does. A word's weight is how rare it is:
``8 - zipf``, so "the" weighs almost nothing and "Ishiba" weighs the most.
Both look-ups are cached per word; the underlying tables load on first use.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

# Zipf values run from 0 (unseen) to about 8 ("the"). A word never seen in general
# English gets the top weight, ZIPF_CEILING; features divide by it to lie in [0, 1].
ZIPF_CEILING = 8.0
_MIN_WEIGHT = 0.3


# Words looked up ahead of time (from a cached index): (lemma, zipf) each. Loading
# simplemma's and wordfreq's tables takes most of a second; a warm start skips that.
_preloaded: dict[str, tuple[str, float]] = {}
_DIGITS = re.compile(r"\d")
# How many of the most frequent English words a table holds besides the knowledge's own.
COMMON_WORDS = 20_000


# Where simplemma's English dictionary is kept as a trie (``save_dictionary``); None: not kept.
_dictionary_root: Path | None = None
_DICTIONARY_FILE = "en.dic"


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """The dictionary form of a lower-case English word ("visited" -> "visit")."""
    known = _preloaded.get(word)
    if known is not None:
        return known[0]
    if not word.isascii() or not word.isalpha() or len(word) < 3:
        return word
    return _lemmatizer()(word).lower()


def keep_dictionary_in(root: Path | None) -> None:
    """Look lemmas up in the trie kept under ``root`` once :func:`save_dictionary` has
    written it there. simplemma's own dictionary takes a quarter of a second to load; the
    trie (the same entries, through simplemma's ``TrieDictionaryFactory``) a millisecond,
    which is what a patched index needs for the few words it has not seen."""
    global _dictionary_root
    if root != _dictionary_root:
        _dictionary_root = root
        _lemmatizer.cache_clear()


def _dictionary_dir(root: Path) -> Path:
    from simplemma import __version__

    return root / f"simplemma-{__version__}"


@lru_cache(maxsize=1)
def _lemmatizer() -> Callable[[str], str]:
    import simplemma

    if _dictionary_root is not None:
        folder = _dictionary_dir(_dictionary_root)
        if (folder / _DICTIONARY_FILE).is_file():
            from simplemma.strategies import DefaultStrategy
            from simplemma.strategies.dictionaries.trie_dictionary_factory import TrieDictionaryFactory

            try:
                factory = TrieDictionaryFactory(disk_cache_dir=str(folder))
            except ImportError:  # installed without simplemma's trie extra: its own table
                return lambda word: str(simplemma.lemmatize(word, lang="en"))
            trie = simplemma.Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=factory))
            # simplemma builds a damaged file again from the same entries.
            return lambda word: str(trie.lemmatize(word, lang="en"))
    return lambda word: str(simplemma.lemmatize(word, lang="en"))


def save_dictionary(root: Path) -> None:
    """Write simplemma's English dictionary as a trie under ``root``, unless it is there:
    built in a private folder and renamed into place, so readers never see half a file."""
    folder = _dictionary_dir(root)
    if (folder / _DICTIONARY_FILE).is_file():
        return
    from simplemma.strategies.dictionaries.trie_dictionary_factory import TrieDictionaryFactory

    folder.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".dictionary.", dir=folder))
    try:
        TrieDictionaryFactory(disk_cache_dir=str(partial)).get_dictionary("en")
        os.replace(partial / _DICTIONARY_FILE, folder / _DICTIONARY_FILE)
    except ImportError:
        pass  # installed without simplemma's trie extra: new words load simplemma's own table
    finally:
        shutil.rmtree(partial, ignore_errors=True)


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    """General English frequency of a word on the Zipf scale (0 when unseen)."""
    known = _preloaded.get(word)
    if known is not None:
        return known[1]
    if word.isascii():
        frequency = _frequencies().get(word)
        if _DIGITS.search(word):
            # wordfreq keeps numbers with their digits as 0s, spread by a digit model.
            from wordfreq.numbers import digit_freq, smash_numbers

            smashed = smash_numbers(word)
            frequency = _frequencies().get(smashed)
            if frequency and smashed != word:
                frequency *= digit_freq(word)
        return round(math.log10(frequency) + 9.0, 2) if frequency else 0.0
    from wordfreq import zipf_frequency  # other scripts need wordfreq's own tokenizer

    return float(zipf_frequency(word, "en"))


@lru_cache(maxsize=1)
def _frequencies() -> dict[str, float]:
    from wordfreq import get_frequency_dict

    return dict(get_frequency_dict("en"))


def table(words: set[str]) -> dict[str, tuple[str, float]]:
    """(lemma, zipf) for ``words`` and the most frequent English words, to preload later."""
    from wordfreq import top_n_list

    return {word: (lemma(word), zipf(word)) for word in words.union(top_n_list("en", COMMON_WORDS))}


def preload(entries: dict[str, tuple[str, float]]) -> None:
    _preloaded.update(entries)


def weight(word: str) -> float:
    """How much a word says about which fact is meant: rare words weigh more."""
    return max(_MIN_WEIGHT, ZIPF_CEILING - zipf(word))


# Pairs of opposites. A question that uses one word of a pair while the fact uses the
# other is usually asking about something the fact does not say.
_OPPOSITES = """
before after; more less; more fewer; most least; largest smallest; biggest smallest;
higher lower; highest lowest; first last; increase decrease; rise fall; win lose;
won lost; north south; east west; include exclude; early late; earliest latest;
old new; oldest newest; major minor; positive negative; same different; always never;
inside outside; accept reject; above below; maximum minimum; strong weak;
strongest weakest; long short; longest shortest; start end; begin end; open close;
internal external; import export; public private; upper lower; male female;
north-east south-west; ancient modern; heavy light; fast slow; hot cold; large small;
wide narrow; high low; top bottom; success failure; legal illegal; true false;
direct indirect; possible impossible; approve reject; allow ban; allow forbid;
support oppose; majority minority; rich poor; before later; prior after;
liberal conservative; victory defeat; victory loss; win loss; gain loss; profit loss;
decline rise; decline increase; many few; previous next; input output; success fail;
accept refuse; agree disagree; ally enemy; friend enemy; love hate; buy sell; lend borrow;
asleep awake; vertical horizontal; upward downward; inner outer;
cause prevent; permanent temporary; rural urban; dead alive; birth death; sunrise sunset
"""


def _opposites() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for pair in _OPPOSITES.replace("\n", " ").split(";"):
        words = pair.split()
        if len(words) == 2:
            a, b = words
            table.setdefault(a, set()).add(b)
            table.setdefault(b, set()).add(a)
    return {word: frozenset(others) for word, others in table.items()}


OPPOSITES = _opposites()

# Prefixes that turn a word into its opposite: "appropriate" and "inappropriate".
_NEGATING_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non", "mis")
_PREFIXED_MIN_LEN = 5


@lru_cache(maxsize=65536)
def opposites(word: str) -> frozenset[str]:
    """Words that mean the opposite of ``word``: listed pairs, and a negating prefix added or taken off."""
    found = set(OPPOSITES.get(word, ()))
    if len(word) >= _PREFIXED_MIN_LEN and word.isalpha():
        found.update(prefix + word for prefix in _NEGATING_PREFIXES)
        found.update(
            word[len(prefix) :]
            for prefix in _NEGATING_PREFIXES
            if word.startswith(prefix) and len(word) - len(prefix) >= _PREFIXED_MIN_LEN
        )
    return frozenset(found)


def warm() -> None:
    """Load the lemma and frequency tables now rather than on the first question."""
    _lemmatizer()("warming")
    _frequencies()
