"""Building tantivy queries from a parsed query (search/query.py) for the keyword index: the
scored words (typos corrected through search/spelling.py), prefixes, phrases and authors, and
the restrictions (categories, dates) that filter without scoring.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import tantivy

from paperfeed.search.query import ParsedQuery
from paperfeed.search.spelling import (
    MAX_CORRECTIONS,
    MIN_CORRECTION_DOCS,
    TYPO_RATIO,
    closest_term,
    known_words,
    may_be_misspelt,
)

AUTHOR_BOOST = 1.0
# Common English words are dropped from a query that has other words: they add little to
# BM25 and cost the most to score. A query of nothing but stopwords keeps them.
STOPWORDS = frozenset(
    "a an and are as at be but by for from has have how in is it its of on or that the their "
    "this to was we were what when which with without via using based".split()
)


@dataclass(frozen=True)
class Filters:
    categories: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None  # exclusive

    @property
    def any(self) -> bool:
        return bool(self.categories or self.since or self.until)


NO_FILTERS = Filters()


class QueryBuilder:
    """Queries over one index's schema, analysed as the index analyses its text."""

    def __init__(
        self, schema: tantivy.Schema, stem: tantivy.TextAnalyzer, names: tantivy.TextAnalyzer
    ) -> None:
        self._schema = schema
        self._stem = stem
        self._names = names

    def stem(self, word: str) -> str:
        """The index's form of one word (lowercased, folded, stemmed), for highlighting."""
        stems = self._stem.analyze(word)
        return stems[0] if stems else word.lower()

    def text_query(
        self,
        query: ParsedQuery,
        searcher: tantivy.Searcher,
        corrected: dict[str, str],
        also_typed: set[str],
    ) -> tantivy.Query | None:
        """The scored part: plain words (OR), prefixes, then phrases and authors (required)."""
        should: list[tuple[tantivy.Occur, tantivy.Query]] = []
        words = [w for w in query.terms if w.lower() not in STOPWORDS] or query.terms
        fuzzy_budget = MAX_CORRECTIONS
        # A word typed twice counts twice, as in BM25's sum over the query's words: a long
        # question repeats what it is about ("titles … titles").
        typed: dict[str, tuple[str, int]] = {}  # stem -> (the word as typed, times)
        for word in words:
            stems = self.stems(word)
            if not stems:
                continue
            stem = stems[0]
            if word in corrected:
                stem = self.stem(corrected[word])
            elif fuzzy_budget > 0 and may_be_misspelt(searcher, word, self.stems):
                fuzzy_budget -= 1
                have = searcher.doc_freq("text", stem)
                at_least = have * TYPO_RATIO if have else MIN_CORRECTION_DOCS
                correction = closest_term(
                    searcher, word.lower(), stem, self.stem, at_least=at_least
                )
                # A word some papers use is only corrected to a dictionary word: "flask" is
                # no typo of "flash", but "transfomer" is one of "transformer".
                if correction is not None and (
                    have == 0 or (correction[1] != stem and correction[0] in known_words())
                ):
                    corrected[word], corrected_stem = correction
                    if have:
                        also_typed.add(word)
                        first, times = typed.get(stem, (word, 0))
                        typed[stem] = (first, times + 1)
                    stem = corrected_stem
            first, times = typed.get(stem, (word, 0))
            typed[stem] = (first, times + 1)
        for stem, (word, times) in typed.items():
            should.extend(self.term_anywhere(stem, word, float(times)))
        for prefix in query.prefixes:
            should.append((tantivy.Occur.Should, self.prefix(prefix)))
        must: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for phrase in query.phrases:
            must.append((tantivy.Occur.Must, self.words_anywhere(phrase)))
        for name in query.authors:
            must.append((tantivy.Occur.Must, self.author(name)))
        if not should and not must:
            return None
        if should and must:
            must.append((tantivy.Occur.Should, tantivy.Query.boolean_query(should)))
            return tantivy.Query.boolean_query(must)
        return tantivy.Query.boolean_query(must or should)

    def stems(self, text: str) -> list[str]:
        return self._stem.analyze(text)

    def term_anywhere(
        self, stem: str, word: str, weight: float = 1.0
    ) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """One word as SHOULD clauses, one per field, for the caller's flat disjunction;
        `weight` counts a word the query repeats once per time it is typed, as BM25 does.

        Flat, not nested per word: a flat union of term scorers lets tantivy skip blocks that
        cannot reach the top k (block-max WAND); nesting each word's fields in its own boolean
        query doubled the latency of common words at a million papers (docs/benchmarks.md).
        """
        clauses = [
            (
                tantivy.Occur.Should,
                _boost(tantivy.Query.term_query(self._schema, "text", stem), weight),
            )
        ]
        names = self._names.analyze(word)
        if names:
            clauses.append(
                (
                    tantivy.Occur.Should,
                    _boost(
                        tantivy.Query.term_query(self._schema, "authors", names[0]),
                        AUTHOR_BOOST * weight,
                    ),
                )
            )
        return clauses

    def prefix(self, word: str) -> tantivy.Query:
        lower = (self._names.analyze(word) or [word.lower()])[0]
        stems = self.stems(word)
        # "transformer*" must find "transformers" although the index holds the stem "transform".
        start = stems[0] if stems and lower.startswith(stems[0]) else lower
        pattern = _regex_literal(start) + ".*"
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.regex_query(self._schema, "text", pattern)),
                (
                    tantivy.Occur.Should,
                    tantivy.Query.regex_query(
                        self._schema, "authors", _regex_literal(lower) + ".*"
                    ),
                ),
            ]
        )

    def words_anywhere(self, words: list[str]) -> tantivy.Query:
        """A word or phrase in the title, abstract or authors."""
        stems = [s for w in words for s in self.stems(w)]
        names = [n for w in words for n in self._names.analyze(w)]
        clauses = []
        for field_name, tokens, boost in (
            ("text", stems, 1.0),
            ("authors", names, AUTHOR_BOOST),
        ):
            if not tokens:
                continue
            if len(tokens) == 1:
                part = tantivy.Query.term_query(self._schema, field_name, tokens[0])
            else:
                # tantivy's list also takes (offset, word) pairs, so it wants this wider type.
                phrase: list[str | tuple[int, str]] = list(tokens)
                part = tantivy.Query.phrase_query(self._schema, field_name, phrase)
            clauses.append((tantivy.Occur.Should, _boost(part, boost)))
        return tantivy.Query.boolean_query(clauses) if clauses else tantivy.Query.empty_query()

    def author(self, words: list[str]) -> tantivy.Query:
        names = [n for w in words for n in self._names.analyze(w)]
        if not names:
            return tantivy.Query.empty_query()
        if len(names) == 1:
            return tantivy.Query.term_query(self._schema, "authors", names[0])
        phrase: list[str | tuple[int, str]] = list(names)  # the wider type, as above
        return tantivy.Query.phrase_query(self._schema, "authors", phrase)

    def restrictions(self, query: ParsedQuery, filters: Filters) -> list[tantivy.Query]:
        restrictions = []
        for categories in (query.categories, filters.categories):
            if categories:
                restrictions.append(
                    tantivy.Query.boolean_query(
                        [
                            (
                                tantivy.Occur.Should,
                                tantivy.Query.term_query(self._schema, "categories", c),
                            )
                            for c in categories
                        ]
                    )
                )
        if filters.since or filters.until:
            restrictions.append(
                tantivy.Query.range_query(
                    self._schema,
                    "published",
                    tantivy.FieldType.Date,
                    naive_utc(filters.since) if filters.since else None,
                    naive_utc(filters.until) if filters.until else None,
                    include_lower=True,
                    include_upper=filters.until is None,
                )
            )
        return restrictions


def _boost(query: tantivy.Query, boost: float) -> tantivy.Query:
    return query if boost == 1.0 else tantivy.Query.boost_query(query, boost)


# tantivy keeps dates as nanoseconds in 64 bits: 1677-09-21 to 2262-04-11.
_EARLIEST = datetime(1678, 1, 1)
_LATEST = datetime(2262, 1, 1)


def naive_utc(value: datetime) -> datetime:
    """A UTC time as tantivy takes it, clamped to what it can hold (a `--since 1500` filter
    means "from the start of time", not an error)."""
    return min(max(value.astimezone(UTC).replace(tzinfo=None), _EARLIEST), _LATEST)


def _regex_literal(text: str) -> str:
    # Tokens are letters and digits already; escape anything else to be safe.
    return "".join(ch if ch.isalnum() else "\\" + ch for ch in text)
