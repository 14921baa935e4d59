"""Patching an index when a few articles change, instead of rebuilding it.

An archive's index is one large segment. When articles are added, edited or removed,
only those are parsed; the facts, texts, masks and postings of every other article are
carried over from the old index with their numbers shifted, and the per-article word
counts (:class:`~bot.engine.index.Sources`) are updated by what left and what came. The
result is the index a full rebuild would give: the same facts in the same order, the
same postings, words and names. One thing is global across articles: a short line
recurring in several articles is set aside as site furniture. When a change moves a
line across that bar, the facts of articles that did not change would change too, and
:func:`patch` returns ``None`` so that the caller rebuilds.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.engine import index as indexmod
from bot.engine.folder import load_articles
from bot.engine.furniture import REPEATED, furniture, recurs, repeated_ids, set_aside_repeated
from bot.engine.index import FactIndex, Names, Texts, context_shares
from bot.engine.knowledge import FACT_KINDS, Article, Fact, FactTable, Knowledge


def _columns(facts: Sequence[Fact], article_numbers: dict[str, int]) -> list[np.ndarray]:
    """(article number, paragraph, sentence, kind, start, end) of ``facts`` as arrays."""
    if isinstance(facts, FactTable):
        return [np.asarray(column) for column in facts.columns]
    return [
        np.array([article_numbers[fact.article_id] for fact in facts], dtype=np.int32),
        np.array([fact.paragraph for fact in facts], dtype=np.int32),
        np.array([fact.sentence for fact in facts], dtype=np.int32),
        np.array([FACT_KINDS.index(fact.kind) for fact in facts], dtype=np.uint8),
        np.array([fact.start for fact in facts], dtype=np.int64),
        np.array([fact.end for fact in facts], dtype=np.int64),
    ]


def fact_columns(knowledge: Knowledge) -> list[np.ndarray]:
    """The knowledge's facts as columns, article numbers in the order of its articles."""
    return _columns(knowledge.facts, {article_id: number for number, article_id in enumerate(knowledge.articles)})


def _old_contribution(article: Article, facts: Sequence[Fact]) -> tuple[set[str], Names]:
    """The words and names an article of the old index was counted with: those of its
    facts and of its lines set aside as repeated (which were facts when counted)."""
    repeated = [
        Fact.trusted(article.id, 0, 0, "sentence", aside.start, aside.end, article.text[aside.start : aside.end])
        for aside in article.set_aside
        if aside.kind == REPEATED
    ]
    _, words, names = indexmod.index_rows([*facts, *repeated])
    return words, names


def patch(base: FactIndex, order: list[str], parse: list[Path], drop: set[str]) -> FactIndex | None:
    """``base`` with the articles ``drop`` (ids) removed and the files ``parse`` read in,
    its articles in ``order`` (the ids of the folder's article files, in file order).

    ``base.sources`` must be known. Returns ``None`` when the change moves the line
    between site furniture and facts in articles that did not change.
    """
    if base.sources is None:
        return None
    indexmod.use_phrases(base.phrases)
    sources = copy.deepcopy(base.sources)
    old_articles = list(base.knowledge.articles.values())
    old_number = {article.id: number for number, article in enumerate(old_articles)}
    old_columns = fact_columns(base.knowledge)
    bounds = np.searchsorted(old_columns[0], np.arange(len(old_articles) + 1))

    # What leaves: its words and its furniture candidates.
    for article_id in drop:
        number = old_number.get(article_id)
        if number is None:
            continue
        start, end = int(bounds[number]), int(bounds[number + 1])
        words, names = _old_contribution(old_articles[number], base.knowledge.facts[start:end])
        sources.add(words, names, -1)
    before = {key for key, ids in sources.furniture.items() if recurs(ids)}
    for key in list(sources.furniture):
        kept_ids = [fact_id for fact_id in sources.furniture[key] if fact_id.rsplit(":", 1)[0] not in drop]
        if kept_ids:
            sources.furniture[key] = kept_ids
        else:
            del sources.furniture[key]

    # What comes.
    parsed = load_articles(parse)
    for key, ids in furniture(parsed).items():
        sources.furniture.setdefault(key, []).extend(ids)
    after = {key for key, ids in sources.furniture.items() if recurs(ids)}
    if before != after:
        return None  # a line became, or stopped being, furniture in other articles too
    repeated = repeated_ids({key: sources.furniture[key] for key in after})
    new: dict[str, tuple[Article, list[Fact], list[indexmod.Row]]] = {}
    for article, facts in parsed:
        rows, words, names = indexmod.index_rows(facts)
        sources.add(words, names)
        article, kept = set_aside_repeated(article, facts, repeated)
        if len(kept) < len(facts):
            kept_set = {fact.id for fact in kept}
            rows = [row for fact, row in zip(facts, rows, strict=True) if fact.id in kept_set]
        new[article.id] = (article, kept, rows)

    # The new order: runs of old articles (their facts renumbered) and new articles.
    articles: list[Article] = []
    mapping = np.full(len(base.knowledge.facts), -1, dtype=np.int64)
    columns: list[list[np.ndarray]] = [[] for _ in old_columns]
    match_texts: list[Texts] = []
    base_texts = base.match_texts if isinstance(base.match_texts, Texts) else Texts.of(base.match_texts)
    types: list[np.ndarray] = []
    context: list[np.ndarray] = []
    added_terms: list[tuple[int, list[list[str]]]] = []  # (first fact number, terms of each fact)
    total = 0
    run: list[int] = []  # old article numbers in a row

    def close_run() -> None:
        nonlocal total
        if not run:
            return
        start, end = int(bounds[run[0]]), int(bounds[run[-1] + 1])
        shift = len(articles) - run[0]
        articles.extend(old_articles[run[0] : run[-1] + 1])
        for place, (column, values) in enumerate(zip(columns, old_columns, strict=True)):
            part = values[start:end]
            column.append((part + shift).astype(np.int32) if place == 0 else part)
        match_texts.append(base_texts.part(start, end))
        types.append(base.types[start:end])
        context.append(base.context[start:end])
        mapping[start:end] = np.arange(total, total + end - start)
        total += end - start
        run.clear()

    for article_id in order:
        if article_id in new:
            close_run()
            article, facts, rows = new[article_id]
            part = _columns(facts, {article_id: len(articles)})
            articles.append(article)
            for column, values in zip(columns, part, strict=True):
                column.append(values)
            match_texts.append(Texts.of([text for text, _, _, _ in rows]))
            types.append(np.array([mask for _, _, mask, _ in rows], dtype=np.uint8))
            context.append(context_shares(facts, [refers for _, _, _, refers in rows]))
            added_terms.append((total, [indexed for _, indexed, _, _ in rows]))
            total += len(facts)
            continue
        number = old_number.get(article_id)
        if number is None or article_id in drop:
            return None  # an article neither kept nor read: the caller's lists disagree
        if run and number != run[-1] + 1:
            close_run()
        run.append(number)
    close_run()

    postings, flat = _merged_postings(base, mapping, added_terms, total)
    knowledge = Knowledge.model_construct(
        articles={article.id: article for article in articles},
        facts=FactTable(articles, [np.concatenate(column) if column else np.zeros(0, np.int64) for column in columns]),
        aliases=base.knowledge.aliases,
    )
    words = set(sources.words)
    lexicon = {word: found for word, found in base.lexicon.items() if word in words or word not in base.words}
    return FactIndex(
        knowledge=knowledge,
        phrases=base.phrases,
        match_texts=Texts.join(match_texts),
        types=np.concatenate(types) if types else np.zeros(0, np.uint8),
        postings=postings,
        words=words,
        context=np.concatenate(context) if context else np.zeros(0, np.float32),
        lexicon=lexicon,
        names=frozenset(sources.names()),
        sources=sources,
        postings_flat=flat,
    )


def _merged_postings(
    base: FactIndex, mapping: np.ndarray, added: list[tuple[int, list[list[str]]]], total: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The old postings renumbered by ``mapping`` (-1: gone), with the new facts' terms.

    Each pair is one key, term number times the facts' count plus fact number: the old
    keys come out sorted (terms in order, each one's facts ascending, and ``mapping``
    keeps their order), so the few new keys are merged in rather than everything sorted.
    """
    old = base.postings
    terms = list(old)
    flat = _flat(old, terms, base.postings_flat)
    lengths = np.fromiter((len(numbers) for numbers in old.values()), dtype=np.int64, count=len(terms))
    numbers = mapping[flat]
    width = max(1, total)
    keys = np.repeat(np.arange(len(terms), dtype=np.int64) * width, lengths) + numbers
    keys = keys[numbers >= 0]
    if added:
        known = {term: number for number, term in enumerate(terms)}
        new_keys = []
        for first, facts in added:
            for offset, indexed in enumerate(facts):
                for term in indexed:
                    number = known.get(term)
                    if number is None:
                        number = known[term] = len(terms)
                        terms.append(term)
                    new_keys.append(number * width + first + offset)
        fresh = np.sort(np.array(new_keys, dtype=np.int64))
        keys = np.insert(keys, np.searchsorted(keys, fresh), fresh)
    term_ids = keys // width
    facts = (keys - term_ids * width).astype(np.int32)
    counts = np.bincount(term_ids, minlength=len(terms))
    ends = np.cumsum(counts)
    postings = {
        term: facts[end - count : end]
        for term, count, end in zip(terms, counts.tolist(), ends.tolist(), strict=True)
        if count
    }
    return postings, facts


def _flat(postings: dict[str, np.ndarray], terms: list[str], whole: np.ndarray | None) -> np.ndarray:
    """All postings end to end, in the order of ``terms`` (the dict's own order)."""
    if whole is not None:
        return whole
    if not terms:
        return np.zeros(0, np.int64)
    return np.concatenate([postings[term] for term in terms])
