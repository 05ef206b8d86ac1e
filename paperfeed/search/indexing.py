"""`paperfeed index`: embed new and changed papers, in batches, resumably.

Which papers need a vector is read from the database each batch (no vector for this model, or
the paper changed since its vector was computed), so an interrupted run simply continues: what
was committed stays, the rest is still a candidate. A complete run records how far it got, so
the next one reads only the papers changed since. A paper whose text did not change (only
its signals or categories did) is marked checked without running the model.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from paperfeed.errors import ModelUnavailable
from paperfeed.search.distill import ensure_fast_model
from paperfeed.search.embedder import FAST_MODEL, Embedder, embedded_text, text_hash
from paperfeed.search.service import SearchService
from paperfeed.storage import embeddings, search_source
from paperfeed.storage.db import writing

log = logging.getLogger(__name__)


@dataclass
class EmbedReport:
    model: str
    candidates: int = 0
    embedded: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    encode_seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Papers embedded per second of the whole run (database work included)."""
        return self.embedded / self.seconds if self.seconds else 0.0

    @property
    def encode_rate(self) -> float:
        """Papers per second of model time alone: the bare model's speed on this run."""
        return self.embedded / self.encode_seconds if self.encode_seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "candidates": self.candidates,
            "embedded": self.embedded,
            "unchanged": self.unchanged,
            "seconds": round(self.seconds, 3),
            "papers_per_second": round(self.rate, 1),
            "encode_papers_per_second": round(self.encode_rate, 1),
        }


@dataclass(slots=True, frozen=True)
class EmbedProgress:
    records: int
    total: int | None
    report: EmbedReport = field(repr=False)

    def postfix(self) -> dict[str, int]:
        return {"embedded": self.report.embedded, "unchanged": self.report.unchanged}


def embed_papers(
    engine: sa.Engine,
    embedder: Embedder,
    *,
    clock: Callable[[], datetime],
    batch_size: int = 256,
    limit: int | None = None,
    rescan: bool = False,
    on_progress: Callable[[EmbedProgress], None] | None = None,
) -> EmbedReport:
    """Embed every paper that needs it for `embedder`'s model; returns what was done.

    A complete run leaves a watermark, the newest paper stamp it started from; the next run
    reads only papers changed since then (less a slack for late commits), so embedding the
    morning's papers does not read a million old ones. `rescan` reads every paper.
    """
    model = embedder.name
    report = EmbedReport(model=model)
    started = time.perf_counter()
    with engine.connect() as conn:
        newest = search_source.latest_change(conn)
        changed_after = None if rescan else embeddings.scan_start(conn, model)
        report.candidates = embeddings.count_candidates(conn, model, changed_after=changed_after)
    total = report.candidates if limit is None else min(limit, report.candidates)
    after: tuple[datetime, str] | None = None
    done = 0
    exhausted = False
    while done < total:
        with engine.connect() as conn:
            page = embeddings.candidates_page(
                conn,
                model,
                changed_after=changed_after,
                after=after,
                limit=min(batch_size, total - done),
            )
        if not page:
            exhausted = True
            break
        after = (page[-1].last_changed_at, page[-1].paper_id)
        to_embed, unchanged, texts = [], [], []
        for candidate in page:
            text = embedded_text(candidate.title, candidate.abstract)
            digest = text_hash(model, text)
            if digest == candidate.stored_hash:
                unchanged.append((candidate.paper_id, candidate.last_changed_at))
            else:
                to_embed.append((candidate.paper_id, digest, candidate.last_changed_at))
                texts.append(text)
        vectors = None
        if texts:
            encode_started = time.perf_counter()
            vectors = embedder.encode(texts)
            report.encode_seconds += time.perf_counter() - encode_started
        with writing(engine) as conn:
            if vectors is not None:
                embeddings.save_vectors(conn, model, to_embed, vectors, clock())
            embeddings.mark_checked(conn, model, unchanged)
        report.embedded += len(to_embed)
        report.unchanged += len(unchanged)
        done += len(page)
        if on_progress:
            on_progress(EmbedProgress(done, total, report))
    if limit is None and newest is not None:
        # Every candidate up to `after` is handled (papers changed meanwhile move past it, and
        # the next run's slack covers late commits); a scan that ran dry covers `newest`.
        through = newest if exhausted or after is None else min(newest, after[0])
        with writing(engine) as conn:
            embeddings.save_checked_through(conn, model, through, clock())
    report.seconds = time.perf_counter() - started
    return report


def update_search_indexes(
    search: SearchService,
    *,
    clock: Callable[[], datetime],
    batch_size: int = 256,
    limit: int | None = None,
    rebuild: bool = False,
    on_progress: Callable[[EmbedProgress], None] | None = None,
    echo: Callable[[str], None] = log.info,
) -> EmbedReport:
    """`paperfeed index` and `paperfeed demo`: embed what needs it, then refresh both indexes.

    The fast model is distilled first if it is the one configured and does not exist yet.
    """
    if search.model == FAST_MODEL:
        ensure_fast_model(search.fast_model_dir, search.engine, echo=echo)
    if rebuild:
        search.rebuild()
    embedder = search.embedder()
    if embedder is None:
        raise ModelUnavailable(search.model_problem or "the embedding model cannot be loaded")
    report = embed_papers(
        search.engine,
        embedder,
        clock=clock,
        batch_size=batch_size,
        limit=limit,
        rescan=rebuild,
        on_progress=on_progress,
    )
    search.refresh(force=True, save=True)
    return report
