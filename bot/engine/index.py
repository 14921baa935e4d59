"""The fact index: the searchable form of a knowledge base, built on every core for an archive.

For every fact it holds the lemmas it is indexed under (its content words and the alias
concepts they form), a space-padded text of those lemmas for rapidfuzz, and a bit mask
of the kinds of answer it can give (a time, a number, a name, a place). Postings map
each term to the sorted fact numbers that hold it, as numpy arrays. ``bot.engine.cache``
keeps built indexes on disk between runs.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.engine import text as textmod
from bot.engine.folder import article_files, chunked, load_articles, parallel_workers, read_aliases, worker_pool
from bot.engine.furniture import assemble, furniture
from bot.engine.knowledge import AliasGroup, Article, Fact, FactTable, Knowledge, OnDemand

# Kinds of answer a fact can give, as bits of its type mask.
TIME, NUMBER, PERSON, PLACE, STATEMENT = "time", "number", "person", "place", "statement"
TYPE_BITS = {TIME: 1, NUMBER: 2, PERSON: 4, PLACE: 8, STATEMENT: 16}
# "How long ...?" asks for a span: of time or of distance ("three years", "14km",
# "since 2001"). A date alone ("on Tuesday") does not answer it.
MEASURE = "measure"
TYPE_BITS[MEASURE] = 32

# Match strength through an alias: a "same" group counts in full, a "related" one less.
ALIAS_SAME = 1.0
ALIAS_RELATED = 0.7

_MONTHS = "january february march april may june july august september october november december"
_DAYS = "monday tuesday wednesday thursday friday saturday sunday"
_TIME_WORDS = frozenset(
    (_MONTHS + " " + _DAYS).split()
    + "jan feb mar apr jun jul aug sep sept oct nov dec yesterday today tomorrow tonight "
    "week weeks month months year years decade decades century centuries ago "
    "morning afternoon evening night spring summer autumn winter".split()
)
NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety hundred hundreds thousand thousands million millions billion billions "
    "trillion dozen dozens half percent".split()
)
_PERSON_TITLES = frozenset(
    "president minister premier king queen prince princess chancellor secretary "
    "ambassador governor mayor senator general chairman chief ceo director leader "
    "mr mrs ms dr sir lord pope emperor author writer founder".split()
)
# Words that report what someone said; a fact holding one (or a quotation) can answer
# "What did X say about Y?".
SPEECH_WORDS = frozenset(
    "say says said tell tells told state stated states announce announced announces add added "
    "note noted according quote quoted explain explained comment commented warn warned argue "
    "argued claim claimed insist insisted reply replied respond responded react reacted "
    "declare declared urge urged write wrote promise promised vow vowed pledge pledged admit "
    "admitted deny denied confirm confirmed criticize criticized criticise criticised praise "
    "praised suggest suggested ask asked describe described stress stressed emphasize "
    "emphasized statement statements remark remarks speech interview".split()
)
_QUOTE = re.compile(r"[\"“”«»]")
_DIGIT = re.compile(r"\d")
_UNIT_WORDS = frozenset(
    "second seconds minute minutes min mins hour hours hr hrs day days night nights week weeks month months "
    "year years decade decades century centuries km kilometre kilometres kilometer kilometers mile miles "
    "metre metres meter meters cm mm ft feet foot inch inches yard yards mph".split()
)
# The words a span needs, as a fact's words (a cheap test before the pattern): a unit,
# "since", "until", or a number with its unit attached ("14km").
_SPAN_WORDS = _UNIT_WORDS | {"since", "until", "till"}
_ATTACHED_UNIT = re.compile(r"^\d[\d,.]*(?:km|m|cm|mm|ft|mph|kg|min|mins|hrs?)$")
_UNITS = "(?:" + "|".join(sorted(_UNIT_WORDS, key=len, reverse=True)) + "|km/h)"
_QUANTITY = (
    r"(?:\d[\d,.]*|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    r"thirty|forty|fifty|sixty|hundred|hundreds|thousand|thousands|million|several|few|many|within|under|over)"
)
# A span: a quantity and a unit ("three years", "14km", "45-minute"), or time counted
# from or up to a point ("since 2001", "until March").
# (At most three spaces or hyphens between number and unit: a bounded gap keeps the
# pattern linear on text with long runs of spaces.)
_SPAN = re.compile(rf"\b{_QUANTITY}[\s-]{{0,3}}{_UNITS}\b|\b(?:since|until|till)\s+\w", re.IGNORECASE)
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b")

# Words that refer back to the sentence before ("It was ...", "she too ...").
_REFERRING_WORDS = textmod.REFERRING | {"such"}
# How a fact refers back: a referring word somewhere, or as its first word.
REFERS, REFERS_AT_START = 1, 2
# Shares of the previous sentence's terms that a sentence holds (see context_shares).
CONTEXT_FOLLOWING = 0.35
CONTEXT_REFERRING = 0.6


def type_mask(fact: Fact, words: set[str] | None = None) -> int:
    """The kinds of answer ``fact`` can give, as a bit mask of :data:`TYPE_BITS`.

    ``words`` are the fact's normalized words, when the caller has them already.
    """
    if words is None:
        words = {token.word for token in textmod.tokens(fact.text)}
    mask = 0
    if _DIGIT.search(fact.text) or words & NUMBER_WORDS:
        mask |= TYPE_BITS[NUMBER]
    if words & _TIME_WORDS or _YEAR.search(fact.text):
        mask |= TYPE_BITS[TIME]
    # A capitalized word that is not an acronym ("Kyodo", not "US"): a name of someone or somewhere.
    proper = any(word[1:2].islower() for word in textmod.capitalized(fact.text))
    if proper or words & _PERSON_TITLES:
        mask |= TYPE_BITS[PERSON]
    if proper:
        mask |= TYPE_BITS[PLACE]
    if words & SPEECH_WORDS or _QUOTE.search(fact.text):
        mask |= TYPE_BITS[STATEMENT]
    if (words & _SPAN_WORDS or any(_ATTACHED_UNIT.match(word) for word in words if word[:1].isdigit())) and (
        _SPAN.search(fact.text)
    ):
        mask |= TYPE_BITS[MEASURE]
    return mask


class Texts(OnDemand[str]):
    """Strings kept end to end as UTF-8 bytes, each decoded when asked for: a warm start
    of a large archive reads one array instead of decoding and parsing a hundred
    thousand JSON strings."""

    def __init__(self, blob: bytes, ends: Sequence[int]) -> None:
        self.blob = blob
        self.ends = ends  # the byte offset where each string ends

    @classmethod
    def of(cls, strings: Sequence[str]) -> Texts:
        parts = [text.encode("utf-8") for text in strings]
        return cls(b"".join(parts), np.cumsum([len(part) for part in parts], dtype=np.int64).tolist())

    def part(self, start: int, end: int) -> Texts:
        """Strings ``start`` to ``end`` as their own :class:`Texts`, without decoding them."""
        first = self.ends[start - 1] if start > 0 else 0
        return Texts(
            self.blob[first : self.ends[end - 1]] if end > start else b"",
            [value - first for value in self.ends[start:end]],
        )

    @classmethod
    def join(cls, parts: Sequence[Texts]) -> Texts:
        ends: list[int] = []
        for part in parts:
            offset = ends[-1] if ends else 0
            ends.extend(value + offset for value in part.ends)
        return cls(b"".join(part.blob for part in parts), ends)

    def __len__(self) -> int:
        return len(self.ends)

    def item(self, number: int) -> str:
        start = self.ends[number - 1] if number > 0 else 0
        return self.blob[start : self.ends[number]].decode("utf-8")


@dataclass
class Phrases:
    """Alias phrases, as lemma sequences, and the concepts they stand for."""

    concepts: dict[tuple[str, ...], list[tuple[str, float]]] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)  # longest phrase per first word

    @classmethod
    def from_groups(cls, groups: Sequence[AliasGroup]) -> Phrases:
        concepts: dict[tuple[str, ...], list[tuple[str, float]]] = defaultdict(list)
        for number, group in enumerate(groups):
            strength = ALIAS_RELATED if group.related else ALIAS_SAME
            for phrase in group.phrases:
                key = tuple(textmod.phrase_terms(textmod.tokens(phrase)))
                if key:
                    concepts[key].append((f"~{number}", strength))
        return cls.from_concepts(dict(concepts))

    @classmethod
    def from_concepts(cls, concepts: dict[tuple[str, ...], list[tuple[str, float]]]) -> Phrases:
        starts: dict[str, int] = {}
        for key in concepts:
            starts[key[0]] = max(starts.get(key[0], 0), len(key))
        return cls(concepts, starts)

    def found_in(self, terms: list[str]) -> set[str]:
        """Every concept whose phrase occurs in ``terms`` (overlaps included)."""
        found = set()
        for start, term in enumerate(terms):
            longest = self.starts.get(term)
            if longest is None:
                continue
            for length in range(1, min(longest, len(terms) - start) + 1):
                for concept, _ in self.concepts.get(tuple(terms[start : start + length]), ()):
                    found.add(concept)
        return found

    def at(self, terms: list[str], position: int) -> tuple[int, list[tuple[str, float]]]:
        """The longest phrase starting at ``position``: its length and concepts (1 and none)."""
        longest = self.starts.get(terms[position], 0)
        for length in range(min(longest, len(terms) - position), 0, -1):
            concepts = self.concepts.get(tuple(terms[position : position + length]))
            if concepts:
                return length, concepts
        return 1, []


def index_terms(
    fact: Fact, phrases: Phrases, fact_tokens: list[textmod.Token] | None = None
) -> tuple[list[str], set[str]]:
    """A fact's content lemmas in order, and every term it is indexed under."""
    fact_tokens = textmod.tokens(fact.text) if fact_tokens is None else fact_tokens
    terms = [token.term for token in fact_tokens if token.content]
    if fact.kind == "caption":
        terms.append("caption")
    return terms, set(terms) | phrases.found_in(textmod.phrase_terms(fact_tokens))


_worker_phrases = Phrases()


def use_phrases(phrases: Phrases) -> None:
    """The alias phrases :func:`index_rows` indexes under, in this process."""
    global _worker_phrases
    _worker_phrases = phrases


def context_shares(facts: Sequence[Fact], refers: Sequence[int]) -> np.ndarray:
    """For each fact, the share of the previous fact's terms it holds too.

    A sentence goes on from the one before it in its paragraph, and one that refers back
    ("It was ...", "she too ...") does so all the more; a paragraph's first sentence
    holds nothing of the sentence before it.
    """
    shares = np.zeros(len(facts), dtype=np.float32)
    for number in range(1, len(facts)):
        fact, before = facts[number], facts[number - 1]
        if before.article_id != fact.article_id or before.kind == "caption":
            continue
        if before.paragraph == fact.paragraph:
            shares[number] = CONTEXT_REFERRING if refers[number] else CONTEXT_FOLLOWING
        elif refers[number] == REFERS_AT_START:
            # News paragraphs are often one sentence: "They are also likely to ..." goes on
            # from the paragraph before.
            shares[number] = CONTEXT_REFERRING
    return shares


Row = tuple[str, list[str], int, int]  # match text, indexed terms, type mask, how it refers back


_LOWER_WORD = re.compile(r"(?<![\w'-])[a-z][a-z'-]*")


def _load_and_index(paths: list[Path]) -> tuple[list[tuple[Article, list[Fact]]], list[Row], Sources]:
    parsed = []
    rows: list[Row] = []
    sources = Sources()
    for path in paths:  # file by file, so each fact's text is still in the fold cache
        article, facts = load_articles([path])[0]
        parsed.append((article, facts))
        file_rows, file_words, file_names = index_rows(facts)
        rows += file_rows
        sources.add(file_words, file_names)
    return parsed, rows, sources


@dataclass
class Names:
    """Words the knowledge writes with a capital inside sentences, and words it writes in
    lower case: those only ever capitalized are names ("Japanese", "Korea", "Ishiba")."""

    capitalized: set[str]
    lower: set[str]

    def names(self) -> set[str]:
        return self.capitalized - self.lower


@dataclass
class Sources:
    """What patching a cached index needs (see ``bot.engine.update``): in how many
    articles each word occurs, is written capitalized, and in lower case; and the
    candidate furniture lines (``knowledge.furniture``)."""

    words: Counter[str] = field(default_factory=Counter)
    capitalized: Counter[str] = field(default_factory=Counter)
    lower: Counter[str] = field(default_factory=Counter)
    furniture: dict[str, list[str]] = field(default_factory=dict)

    def add(self, words: set[str], names: Names, sign: int = 1) -> None:
        """Count one article's words in (``sign`` 1) or out (-1)."""
        for counter, found in ((self.words, words), (self.capitalized, names.capitalized), (self.lower, names.lower)):
            if sign > 0:
                counter.update(found)
            else:
                counter.subtract(found)
                for word in found:
                    if counter[word] <= 0:
                        del counter[word]

    def merge(self, other: Sources) -> None:
        self.words.update(other.words)
        self.capitalized.update(other.capitalized)
        self.lower.update(other.lower)

    def names(self) -> set[str]:
        return {word for word in self.capitalized if word not in self.lower}


def index_rows(facts: list[Fact]) -> tuple[list[Row], set[str], Names]:
    """Each fact's row (match text, indexed terms, type mask, how it refers back), and the
    words and names of them all."""
    rows = []
    words: set[str] = set()
    names = Names(set(), set())
    for fact in facts:
        fact_tokens = textmod.tokens(fact.text)
        fact_words = {token.word for token in fact_tokens}
        words |= fact_words
        names.capitalized.update(word.casefold() for word in textmod.capitalized(fact.text) if word[1:2].islower())
        names.lower.update(_LOWER_WORD.findall(fact.text))
        terms, indexed = index_terms(fact, _worker_phrases, fact_tokens)
        if fact_tokens and fact_tokens[0].word in _REFERRING_WORDS:
            refers = REFERS_AT_START
        else:
            refers = REFERS if not fact_words.isdisjoint(_REFERRING_WORDS) else 0
        rows.append((" " + " ".join(terms) + " ", list(indexed), type_mask(fact, fact_words), refers))
    return rows, words, names


@dataclass
class FactIndex:
    knowledge: Knowledge
    phrases: Phrases
    match_texts: Sequence[str]
    types: np.ndarray
    postings: dict[str, np.ndarray]
    # The knowledge's words, and (filled when cached) the (lemma, zipf) table of those and
    # of common English words, preloaded on a warm start.
    words: set[str]
    # For each fact, the share of the previous fact's terms it holds too (see context_shares).
    context: np.ndarray
    lexicon: dict[str, tuple[str, float]] = field(default_factory=dict)
    # Words the knowledge writes only as names, in lower case ("japanese", "ishiba").
    names: frozenset[str] = frozenset()
    # Per-article counts for patching (see Sources); kept with a built or cached folder.
    sources: Sources | None = None
    # The postings end to end in the order of the dict, when its arrays are views of
    # this one (a cached or patched index): patching and writing then skip joining them.
    postings_flat: np.ndarray | None = None
    # The indexed words (not alias concepts), sorted, and grouped by length for typo look-ups.
    vocabulary: list[str] = field(init=False)
    by_length: dict[int, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.vocabulary = sorted(term for term in self.postings if not term.startswith("~"))
        by_length: dict[int, list[str]] = defaultdict(list)
        for word in self.vocabulary:
            by_length[len(word)].append(word)
        self.by_length = dict(by_length)

    @property
    def facts(self) -> Sequence[Fact]:
        return self.knowledge.facts

    @functools.cached_property
    def has_context(self) -> bool:
        """Whether any fact holds some of the sentence before it."""
        return bool(self.context.any())

    @functools.cached_property
    def positions(self) -> np.ndarray:
        """For each fact, its place among its article's facts (0 for the first)."""
        facts = self.knowledge.facts
        if isinstance(facts, FactTable):
            owners = np.asarray(facts.columns[0])
        else:
            numbers: dict[str, int] = {}
            owners = np.array([numbers.setdefault(fact.article_id, len(numbers)) for fact in facts], dtype=np.int64)
        if not len(owners):
            return np.zeros(0, dtype=np.int32)
        starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        opening = np.repeat(starts, np.diff(np.r_[starts, len(owners)]))
        return (np.arange(len(owners)) - opening).astype(np.int32)

    def idf(self, term: str) -> float:
        """How few facts hold ``term`` (BM25's inverse document frequency)."""
        count = len(self.postings.get(term, ()))
        total = max(1, len(self.knowledge.facts))
        return math.log(1.0 + (total - count + 0.5) / (count + 0.5))

    @classmethod
    def build(cls, knowledge: Knowledge) -> FactIndex:
        """The index of knowledge already in memory (one process)."""
        phrases = Phrases.from_groups(knowledge.aliases)
        use_phrases(phrases)
        rows, words, names = index_rows(list(knowledge.facts))
        return cls._assemble(knowledge, phrases, rows, words, names.names())

    @classmethod
    def from_folder(cls, folder: Path) -> FactIndex:
        """Parse and index a knowledge folder; a large archive is done on every core at once."""
        files = article_files(folder)
        aliases = read_aliases(folder)
        phrases = Phrases.from_groups(aliases)
        workers = parallel_workers(len(files))
        if workers > 1:
            with worker_pool(workers, use_phrases, (phrases,)) as pool:
                results = list(pool.map(_load_and_index, chunked(files, workers)))
        else:
            use_phrases(phrases)
            results = [_load_and_index(files)]
        every = [item for parsed, _, _ in results for item in parsed]
        sources = Sources(furniture=furniture(every))
        knowledge = assemble(every, aliases, sources.furniture)
        rows = [row for _, chunk_rows, _ in results for row in chunk_rows]
        if len(knowledge.facts) < len(rows):  # lines recurring across articles were set aside
            kept = {fact.id for fact in knowledge.facts}
            ids = [fact.id for _, facts in every for fact in facts]
            rows = [row for fact_id, row in zip(ids, rows, strict=True) if fact_id in kept]
        for _, _, chunk_sources in results:
            sources.merge(chunk_sources)
        index = cls._assemble(knowledge, phrases, rows, set(sources.words), sources.names())
        index.sources = sources
        return index

    @classmethod
    def _assemble(
        cls, knowledge: Knowledge, phrases: Phrases, rows: list[Row], words: set[str], names: set[str]
    ) -> FactIndex:
        postings: dict[str, list[int]] = defaultdict(list)
        for number, (_, indexed, _, _) in enumerate(rows):
            for term in indexed:
                postings[term].append(number)
        return cls(
            knowledge=knowledge,
            phrases=phrases,
            match_texts=[text for text, _, _, _ in rows],
            types=np.array([mask for _, _, mask, _ in rows], dtype=np.uint8),
            context=context_shares(knowledge.facts, [refers for _, _, _, refers in rows]),
            postings={term: np.array(numbers, dtype=np.int32) for term, numbers in postings.items()},
            words=words,
            names=frozenset(names),
        )
