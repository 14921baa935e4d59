"""English word knowledge for matching: lemmas (simplemma) and general word frequency (wordfreq).

A single article holds about ten facts, so counting documents says little about which
words matter; general English frequency does. A word's weight is how rare it is:
``8 - zipf``, so "the" weighs almost nothing and "Ishiba" weighs the most.
Both look-ups are cached per word; the underlying tables load on first use.
"""

from __future__ import annotations

from functools import lru_cache

# Zipf values run from 0 (unseen) to about 8 ("the"). A word never seen in general
# English gets the top weight.
_ZIPF_CEILING = 8.0
_MIN_WEIGHT = 0.3


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """The dictionary form of a lower-case English word ("visited" -> "visit")."""
    if not word.isascii() or not word.isalpha() or len(word) < 3:
        return word
    from simplemma import lemmatize

    return lemmatize(word, lang="en").lower()


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    """General English frequency of a word on the Zipf scale (0 when unseen)."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def weight(word: str) -> float:
    """How much a word says about which fact is meant: rare words weigh more."""
    return max(_MIN_WEIGHT, _ZIPF_CEILING - zipf(word))


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
support oppose; majority minority; rich poor; before later; prior after
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
