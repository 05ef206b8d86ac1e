"""The keyword (BM25) index: a tantivy index derived from the papers table.

Why tantivy: ranked OR queries with block-max WAND stay in single-digit milliseconds at a
million papers even for common words, where SQLite FTS5 and PostgreSQL's ts_rank_cd score every
match and take a second (docs/ranking.md, docs/benchmarks.md). The index holds only ids and
postings; titles, abstracts and snippets come from the database.

The index is never the source of truth. `sync` catches up from papers.last_changed_at; a
paper removed from the database is noticed because the counts differ, and reconciled.
Rebuilding from scratch is `KeywordIndex.open(dir, rebuild=True)` followed by `sync`.
Queries are built by search/keyword_query.py, typos corrected by search/spelling.py.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import tantivy

from paperfeed.errors import SearchError
from paperfeed.search.keyword_query import NO_FILTERS, Filters, QueryBuilder, naive_utc
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
WRITER_HEAP = 256 * 1024 * 1024


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
        self._schema = index.schema
        self._queries = QueryBuilder(self._schema, _stem_analyzer(), _name_analyzer())
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
        document.add_date("published", naive_utc(doc.published_at))
        document.add_integer("changed", _micros(doc.last_changed_at))
        return document

    # --- searching -------------------------------------------------------------------------

    def search(
        self,
        query: ParsedQuery,
        *,
        limit: int,
        offset: int = 0,
        filters: Filters = NO_FILTERS,
        sort: str = "relevance",
    ) -> KeywordResult:
        searcher = self._index.searcher()
        corrected: dict[str, str] = {}
        also_typed: set[str] = set()
        scored = self._queries.text_query(query, searcher, corrected, also_typed)
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if scored is not None:
            clauses.append((tantivy.Occur.Must, scored))
        elif not (filters.any or query.categories):
            return KeywordResult([], corrected)
        for restriction in self._queries.restrictions(query, filters):
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(restriction, 0.0)))
        for group in query.excluded:
            clauses.append((tantivy.Occur.MustNot, self._queries.words_anywhere(group)))
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
        for restriction in self._queries.restrictions(query, filters):
            clauses.append((tantivy.Occur.Must, restriction))
        for phrase in query.phrases:
            clauses.append((tantivy.Occur.Must, self._queries.words_anywhere(phrase)))
        for name in query.authors:
            clauses.append((tantivy.Occur.Must, self._queries.author(name)))
        for group in query.excluded:
            clauses.append((tantivy.Occur.MustNot, self._queries.words_anywhere(group)))
        searcher = self._index.searcher()
        found = searcher.search(
            tantivy.Query.boolean_query(clauses), limit=len(paper_ids), count=False
        )
        return {searcher.doc(address)["id"][0] for _, address in found.hits}

    def stem(self, word: str) -> str:
        """The index's form of one word (lowercased, folded, stemmed), for highlighting."""
        return self._queries.stem(word)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(value: datetime) -> int:
    """A stamp as an exact integer (float seconds would round microseconds away)."""
    delta = value.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _read_state(path: Path) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads(path.read_text())
        return state
    except (OSError, ValueError):
        return {}
