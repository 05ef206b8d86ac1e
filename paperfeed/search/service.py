"""Search and similar papers: the functions the CLI, the web pages and the API all call.

`SearchService` answers, over the indexes and the model it keeps current (search/indexes.py):
- `search(text, mode=hybrid|keyword|semantic, …)`: ranked papers, each with why it ranked
  (its keyword and semantic ranks) and a highlighted snippet;
- `similar(ids=…, text=…)`: nearest neighbours of papers or of a pasted text.

Hybrid fuses the keyword and semantic scores (search.fusion). An exact arXiv
id or exact title is pinned first. When the model cannot be loaded or no vectors exist yet,
results come from keywords alone with a notice saying so. docs/ranking.md explains it all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from paperfeed.errors import InvalidInput, NotFound
from paperfeed.search.fusion import Fused, keyword_weight, normalised_fusion, reciprocal_rank_fusion
from paperfeed.search.indexes import SearchIndexes
from paperfeed.search.keyword_query import STOPWORDS, Filters
from paperfeed.search.query import ParsedQuery, parse, words_of
from paperfeed.search.snippets import make_snippet
from paperfeed.storage import embeddings
from paperfeed.storage.papers import get_stored

log = logging.getLogger(__name__)

MODES = ("hybrid", "keyword", "semantic")
SORTS = ("relevance", "date")
MAX_LIMIT = 200
MAX_OFFSET = 10_000
# How deep each list goes before fusion: deep enough that a paper ranked 60th by one mode
# and 5th by the other still surfaces.
FUSION_DEPTH = 100
# Semantic hits are checked against filters and operators after the ANN lookup, so with a
# filter it looks further to still fill a page.
FILTERED_DEPTH = 1000
MAX_SEEDS = 50
# Pseudo-relevance feedback in hybrid search: the query vector moves towards the mean vector of
# the fused list's first FEEDBACK_PAPERS, by FEEDBACK_WEIGHT (bench/search_tuning.py).
FEEDBACK_PAPERS = 2
FEEDBACK_WEIGHT = 1.5

# A result before it is read from the database: (paper id, score, why), where why holds its
# rank in each list by name ("keyword": 3) and, when it was pinned, the reason ("pinned": …).
_Scored = tuple[str, float, Mapping[str, int | str]]


@dataclass
class SearchResponse:
    query: str
    mode: str  # what ran: a hybrid request without a model runs as "keyword"
    results: list[dict[str, Any]]
    notices: list[str] = field(default_factory=list)
    took_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "mode": self.mode,
            "notices": self.notices,
            "took_ms": round(self.took_ms, 2),
            "results": self.results,
        }


class SearchService(SearchIndexes):
    """Answers searches and similar-paper lookups over the indexes it keeps current."""

    # --- search ----------------------------------------------------------------------------

    def search(
        self,
        text: str,
        *,
        mode: str = "hybrid",
        limit: int = 10,
        offset: int = 0,
        categories: Sequence[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "relevance",
    ) -> SearchResponse:
        started = time.perf_counter()
        _check_options(mode, limit, offset, sort)
        if since and until and since >= until:
            raise InvalidInput("--since must be before --until")
        self._refresh_soon()
        query = parse(text)
        filters = Filters(tuple(c for c in categories if c), since, until)
        notices: list[str] = []
        # Fusion needs each list 100 deep; keyword search alone only its page (and the first
        # 10, for pins): a shallower top k lets the engine skip more.
        depth = max(FUSION_DEPTH if mode != "keyword" else 10, offset + limit)
        pinned = self._pinned(query)

        keyword_hits: list[tuple[str, float]] = []
        corrections: dict[str, str] = {}
        if mode in ("hybrid", "keyword") or sort == "date":
            keyword_hits, corrections = self._keyword_list(query, filters, depth, sort, notices)
        semantic = _Semantic()
        ran = mode
        if mode in ("hybrid", "semantic") and sort != "date" and query.free_text:
            semantic = self._semantic(query, filters, depth)
            if semantic.problem:
                notices.append(semantic.problem)
                ran = "keyword"
                if mode == "semantic":  # keywords stand in, corrections unsaid
                    keyword_hits, _ = self._keyword_list(query, filters, depth, sort, [])
        ordered, lists = self._fused(ran, keyword_hits, semantic, query, filters, depth, sort)
        keyword_ids = [pid for pid, _ in keyword_hits]
        ordered = self._apply_pins(ordered, pinned, query, keyword_ids[:10])
        page = ordered[offset : offset + limit]
        results = self._results(page, query, lists, extra_words=list(corrections.values()))
        return SearchResponse(
            query=query.text,
            mode=ran,
            results=results,
            notices=notices,
            took_ms=(time.perf_counter() - started) * 1000,
        )

    def _keyword_list(
        self, query: ParsedQuery, filters: Filters, depth: int, sort: str, notices: list[str]
    ) -> tuple[list[tuple[str, float]], dict[str, str]]:
        """The keyword list (by date when sorted so), and its typo corrections, each said in
        `notices`."""
        found = self.keyword_index().search(
            query, limit=depth, filters=filters, sort="date" if sort == "date" else "relevance"
        )
        for word, correction in found.corrected.items():
            if word in found.also_typed:
                notices.append(
                    f"“{word}” looks misspelt (few papers contain it); "
                    f"searched for “{correction}” too"
                )
            else:
                notices.append(f"no paper contains “{word}”; searched for “{correction}” instead")
        return [(hit.paper_id, hit.score) for hit in found.hits], found.corrected

    def _fused(
        self,
        ran: str,
        keyword_hits: list[tuple[str, float]],
        semantic: _Semantic,
        query: ParsedQuery,
        filters: Filters,
        depth: int,
        sort: str,
    ) -> tuple[list[_Scored], dict[str, list[str]]]:
        """The one ordered list of the mode that ran, and each list by name (for why a result
        ranked)."""
        keyword_ids = [pid for pid, _ in keyword_hits]
        if ran == "keyword":
            fused = _ranked("keyword", keyword_hits)
            lists = {"keyword": keyword_ids}
        elif ran == "semantic":
            fused = _ranked("semantic", semantic.hits)
            lists = {"semantic": [pid for pid, _ in semantic.hits]}
        else:
            if sort != "date":  # by date, the semantic list was never asked for
                fused, semantic = self._hybrid(keyword_hits, semantic, query, filters, depth)
            lists = {"keyword": keyword_ids, "semantic": [pid for pid, _ in semantic.hits]}
        if sort == "date":
            return [(pid, 0.0, {}) for pid in keyword_ids], lists
        return [(f.paper_id, f.score, f.ranks) for f in fused], lists

    def _semantic(self, query: ParsedQuery, filters: Filters, depth: int) -> _Semantic:
        vectors = self.vector_index()
        if vectors.size == 0:
            return _Semantic(
                problem=f"semantic search is off: no paper has a vector from model "
                f"“{self.model}” yet (run `paperfeed index`); showing keyword results"
            )
        embedder = self.embedder()
        if embedder is None:
            return _Semantic(
                problem=f"semantic search is off: the embedding model cannot be loaded "
                f"({self._embedder_error}); showing keyword results"
            )
        return self._nearest(embedder.encode([query.free_text])[0], query, filters, depth)

    def _nearest(
        self, vector: np.ndarray, query: ParsedQuery, filters: Filters, depth: int
    ) -> _Semantic:
        """The papers nearest a query vector that satisfy the query's operators and filters."""
        constrained = filters.any or query.categories or query.excluded or query.phrases
        constrained = constrained or query.authors
        hits = self.vector_index().search(vector, FILTERED_DEPTH if constrained else depth)
        if constrained:
            allowed = self.keyword_index().matching([h.paper_id for h in hits], query, filters)
            hits = [hit for hit in hits if hit.paper_id in allowed]
        return _Semantic(vector, [(hit.paper_id, hit.similarity) for hit in hits[:depth]])

    def _hybrid(
        self,
        keyword_hits: list[tuple[str, float]],
        semantic: _Semantic,
        query: ParsedQuery,
        filters: Filters,
        depth: int,
    ) -> tuple[list[Fused], _Semantic]:
        """Fuse the two lists, then once more with the query vector moved towards the vectors
        of the fused list's first papers (pseudo-relevance feedback, Rocchio's on vectors):
        what the first papers share, beyond the query's own words, finds their neighbours."""
        weight = keyword_weight(self.model)
        fused = self._fuse(keyword_hits, semantic, weight)
        top = self.vector_index().vectors_of([f.paper_id for f in fused[:FEEDBACK_PAPERS]])
        if semantic.vector is None or not top:
            return fused, semantic
        expanded = semantic.vector + FEEDBACK_WEIGHT * np.mean(list(top.values()), axis=0)
        expanded = expanded / np.linalg.norm(expanded)
        semantic = self._nearest(expanded.astype(np.float32), query, filters, depth)
        return self._fuse(keyword_hits, semantic, weight), semantic

    def _fuse(
        self, keyword_hits: list[tuple[str, float]], semantic: _Semantic, weight: float
    ) -> list[Fused]:
        cosines = self._cosines(semantic, [pid for pid, _ in keyword_hits])
        return normalised_fusion(keyword_hits, semantic.hits, cosines, keyword_weight=weight)

    def _cosines(self, semantic: _Semantic, paper_ids: list[str]) -> dict[str, float]:
        """Cosines of keyword hits the semantic list did not reach, from their stored vectors."""
        if semantic.vector is None:
            return {}
        reached = {pid for pid, _ in semantic.hits}
        missing = [pid for pid in paper_ids if pid not in reached]
        stored = self.vector_index().vectors_of(missing)
        return {pid: float(np.dot(vector, semantic.vector)) for pid, vector in stored.items()}

    def _pinned(self, query: ParsedQuery) -> tuple[str, str] | None:
        if query.arxiv_id is None:
            return None
        with self.engine.connect() as conn:
            found = get_stored(conn, [query.arxiv_id])
        return (query.arxiv_id, "arXiv id") if found else None

    def _apply_pins(
        self,
        ordered: list[_Scored],
        pinned: tuple[str, str] | None,
        query: ParsedQuery,
        top_keyword: list[str],
    ) -> list[_Scored]:
        pins: list[tuple[str, str]] = [pinned] if pinned else []
        if not pins and len(query.text) >= 12 and top_keyword:
            wanted = _normal_title(query.text)
            with self.engine.connect() as conn:
                stored = get_stored(conn, top_keyword)
            for paper_id in top_keyword:
                if paper_id in stored and _normal_title(stored[paper_id].paper.title) == wanted:
                    pins.append((paper_id, "exact title"))
                    break
        if not pins:
            return ordered
        pin_ids = {pid for pid, _ in pins}
        by_id = {pid: (pid, score, ranks) for pid, score, ranks in ordered}
        head: list[_Scored] = []
        for pid, reason in pins:
            _, score, ranks = by_id.get(pid, (pid, 0.0, {}))
            head.append((pid, score, {**ranks, "pinned": reason}))
        return head + [entry for entry in ordered if entry[0] not in pin_ids]

    def _results(
        self,
        page: Sequence[_Scored],
        query: ParsedQuery,
        lists: Mapping[str, Sequence[str]],
        *,
        extra_words: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        if not page:
            return []
        with self.engine.connect() as conn:
            stored = get_stored(conn, [pid for pid, _, _ in page])
        stem = self.keyword_index().stem
        words = [w for w in query.positive_words if w.lower() not in STOPWORDS]
        words += extra_words
        results = []
        for paper_id, score, ranks in page:
            if paper_id not in stored:  # removed since the index was refreshed
                continue
            paper = stored[paper_id].paper
            results.append(
                {
                    "id": paper.id,
                    "title": paper.title,
                    "authors": paper.authors,
                    "categories": paper.categories,
                    "published_at": paper.published_at.isoformat() if paper.published_at else None,
                    "links": {
                        "abstract": paper.abs_url,
                        "pdf": paper.pdf_url,
                        "code": paper.code_url,
                    },
                    "score": round(score, 6),
                    "why": {
                        "keyword_rank": ranks.get("keyword") if "keyword" in lists else None,
                        "semantic_rank": ranks.get("semantic") if "semantic" in lists else None,
                        "pinned": ranks.get("pinned"),
                    },
                    "snippet": make_snippet(paper.abstract, words, query.prefixes, stem),
                }
            )
        return results

    # --- similar papers --------------------------------------------------------------------

    def similar(
        self, ids: Sequence[str] = (), *, text: str | None = None, limit: int = 10
    ) -> SearchResponse:
        """Papers nearest to the given papers (a reading list) or to a pasted text."""
        started = time.perf_counter()
        _check_options("semantic", limit, 0, "relevance")
        if bool(ids) == bool(text and text.strip()):
            raise InvalidInput("give paper ids or a text, not both and not neither")
        if len(ids) > MAX_SEEDS:
            raise InvalidInput(f"at most {MAX_SEEDS} papers at once")
        self._refresh_soon()
        seeds = list(dict.fromkeys(ids))
        notices: list[str] = []
        if seeds:
            with self.engine.connect() as conn:
                stored = get_stored(conn, seeds)
            unknown = [pid for pid in seeds if pid not in stored]
            if unknown:
                raise NotFound(f"no paper with id {', '.join(unknown)}")
        exclude = set(seeds)
        lists: dict[str, list[str]] = {}
        problem = None
        if self.vector_index().size == 0:
            problem = "no paper has a vector yet (run `paperfeed index`)"
        elif text:
            embedder = self.embedder()
            if embedder is None:
                problem = f"the embedding model cannot be loaded ({self._embedder_error})"
            else:
                vector = embedder.encode([text])[0]
                lists["semantic"] = [
                    h.paper_id for h in self.vector_index().search(vector, FUSION_DEPTH)
                ]
        else:
            vectors = self.vector_index().vectors_of(seeds)
            missing = [pid for pid in seeds if pid not in vectors]
            if missing:
                with self.engine.connect() as conn:
                    vectors.update(embeddings.get_vectors(conn, self.model, missing))
            for pid in seeds:
                if pid in vectors:
                    hits = self.vector_index().search(vectors[pid], FUSION_DEPTH, exclude=exclude)
                    lists[pid] = [h.paper_id for h in hits]
            if not lists:
                problem = "none of these papers has a vector yet (run `paperfeed index`)"
        if problem:
            notices.append(f"semantic similarity is off: {problem}; showing keyword matches")
            seed_text = text or " ".join(
                f"{stored[pid].paper.title} {stored[pid].paper.abstract[:400]}" for pid in seeds
            )
            query = parse(" ".join(words_of(seed_text)[:60]))
            found = self.keyword_index().search(query, limit=FUSION_DEPTH + len(exclude))
            lists = {"keyword": [h.paper_id for h in found.hits if h.paper_id not in exclude]}
        fused = reciprocal_rank_fusion(lists)
        page = fused[:limit]
        results = self._results([(f.paper_id, f.score, f.ranks) for f in page], parse(""), {})
        for result, hit in zip(results, page, strict=False):
            # For a reading list, which seeds each result is near, and how near (its rank).
            result["why"] = {
                "near": {name: rank for name, rank in hit.ranks.items() if name in exclude}
            }
        return SearchResponse(
            query=text or " ".join(seeds),
            mode="keyword" if problem else "semantic",
            results=results,
            notices=notices,
            took_ms=(time.perf_counter() - started) * 1000,
        )


@dataclass
class _Semantic:
    """The semantic list of one search: the query vector, (id, cosine) hits, or a problem."""

    vector: np.ndarray | None = None
    hits: list[tuple[str, float]] = field(default_factory=list)
    problem: str | None = None


def _ranked(name: str, hits: list[tuple[str, float]]) -> list[Fused]:
    """One list alone, in its own order, with its own scores."""
    return [Fused(pid, score, {name: rank}) for rank, (pid, score) in enumerate(hits, start=1)]


def _check_options(mode: str, limit: int, offset: int, sort: str) -> None:
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}")
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}")


def _normal_title(text: str) -> str:
    return " ".join(words_of(text.lower()))
