"""Stored paper vectors: which papers need embedding, saving vectors, reading them back.

A vector is stored as little-endian float32 bytes with its model name and a hash of the text
it was computed from; search.indexing decides what to embed, this module only reads and
writes rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from paperfeed.storage import ingest_runs, search_source
from paperfeed.storage.dialect import bulk_insert
from paperfeed.storage.tables import embeddings, papers

_ID_CHUNK = 900

LATE_COMMIT_SLACK = search_source.LATE_COMMIT_SLACK


@dataclass(frozen=True, slots=True)
class EmbeddingCandidate:
    paper_id: str
    title: str
    abstract: str
    last_changed_at: datetime
    stored_hash: str | None  # None when the paper has no vector for this model yet


@dataclass(frozen=True, slots=True)
class StoredVector:
    paper_id: str
    vector: np.ndarray
    embedded_at: datetime


def count_candidates(conn: sa.Connection, model: str, *, changed_after: datetime | None) -> int:
    query = _candidates_query(model, changed_after)
    return conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()


def candidates_page(
    conn: sa.Connection,
    model: str,
    *,
    changed_after: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[EmbeddingCandidate]:
    """Papers with no vector for `model`, or changed since it was computed, in (last_changed_at,
    id) order after `after`; only those changed after `changed_after` when it is given."""
    query = _candidates_query(model, changed_after)
    if after is not None:
        # The first bound alone can use the index; the second picks up after the last row.
        query = query.where(papers.c.last_changed_at >= after[0]).where(
            sa.or_(
                papers.c.last_changed_at > after[0],
                sa.and_(papers.c.last_changed_at == after[0], papers.c.id > after[1]),
            )
        )
    query = query.order_by(papers.c.last_changed_at, papers.c.id).limit(limit)
    return [EmbeddingCandidate(*row) for row in conn.execute(query)]


def _candidates_query(model: str, changed_after: datetime | None) -> sa.Select[*tuple[Any, ...]]:
    joined = papers.outerjoin(
        embeddings, sa.and_(embeddings.c.paper_id == papers.c.id, embeddings.c.model == model)
    )
    query = (
        sa.select(
            papers.c.id,
            papers.c.title,
            papers.c.abstract,
            papers.c.last_changed_at,
            embeddings.c.text_hash,
        )
        .select_from(joined)
        .where(
            sa.or_(
                embeddings.c.paper_id.is_(None),
                papers.c.last_changed_at > embeddings.c.paper_changed_at,
            )
        )
    )
    if changed_after is not None:
        query = query.where(papers.c.last_changed_at > changed_after)
    return query


def scan_start(conn: sa.Connection, model: str) -> datetime | None:
    """Where a candidate scan for `model` may start: the last complete run's watermark, less
    the time a slow write may commit a paper stamped before it (None: scan every paper).

    The counts are the backstop: when more papers lack a vector than the window holds (a
    commit later than the slack, a vector lost in a restore), every paper is scanned."""
    through = checked_through(conn, model)
    if through is None:
        return None
    start = through - LATE_COMMIT_SLACK
    return None if _lacking_before(conn, model, start) else start


def _lacking_before(conn: sa.Connection, model: str, start: datetime) -> bool:
    """Whether a paper changed at or before `start` has no vector for `model`: two counts and
    the window's own, no scan (0.05 s at a million papers, bench/embed_new.py)."""
    all_papers = conn.execute(sa.select(sa.func.count()).select_from(papers)).scalar_one()
    vectors = conn.execute(
        sa.select(sa.func.count()).select_from(embeddings).where(embeddings.c.model == model)
    ).scalar_one()
    joined = papers.outerjoin(
        embeddings, sa.and_(embeddings.c.paper_id == papers.c.id, embeddings.c.model == model)
    )
    lacking_in_window = conn.execute(
        sa.select(sa.func.count())
        .select_from(joined)
        .where(papers.c.last_changed_at > start, embeddings.c.paper_id.is_(None))
    ).scalar_one()
    return all_papers - vectors > lacking_in_window


def checked_through(conn: sa.Connection, model: str) -> datetime | None:
    """The newest paper stamp up to which every paper was embedded or checked for `model`, as
    the last complete run left it (None before the first)."""
    state = ingest_runs.load_checkpoint(conn, _checked_key(model))
    return datetime.fromisoformat(state["checked_through"]) if state else None


def save_checked_through(conn: sa.Connection, model: str, stamp: datetime, now: datetime) -> None:
    ingest_runs.save_checkpoint(conn, _checked_key(model), {"checked_through": stamp}, now)


def _checked_key(model: str) -> str:
    return f"embeddings:{model}"


def save_vectors(
    conn: sa.Connection,
    model: str,
    rows: Sequence[tuple[str, str, datetime]],
    vectors: np.ndarray,
    embedded_at: datetime,
) -> None:
    """Store (paper_id, text_hash, paper_changed_at) rows with their vectors, replacing any."""
    ids = [row[0] for row in rows]
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start : start + _ID_CHUNK]
        conn.execute(
            embeddings.delete().where(embeddings.c.model == model, embeddings.c.paper_id.in_(chunk))
        )
    data = np.ascontiguousarray(vectors, dtype="<f4")
    bulk_insert(
        conn,
        embeddings,
        [
            {
                "model": model,
                "paper_id": paper_id,
                "text_hash": text_hash,
                "dims": data.shape[1],
                "vector": data[i].tobytes(),
                "paper_changed_at": changed_at,
                "embedded_at": embedded_at,
            }
            for i, (paper_id, text_hash, changed_at) in enumerate(rows)
        ],
    )


def mark_checked(conn: sa.Connection, model: str, rows: Sequence[tuple[str, datetime]]) -> None:
    """The papers' text did not change: remember that they were checked at this state."""
    if rows:
        conn.execute(
            embeddings.update()
            .where(embeddings.c.model == model, embeddings.c.paper_id == sa.bindparam("b_paper_id"))
            .values(paper_changed_at=sa.bindparam("b_changed_at")),
            [{"b_paper_id": paper_id, "b_changed_at": changed_at} for paper_id, changed_at in rows],
        )


def vectors_since(
    conn: sa.Connection, model: str, since: datetime | None, *, page: int = 5_000
) -> Iterator[list[StoredVector]]:
    """Pages of vectors stored at or after `since` (all for None), oldest first."""
    after: tuple[datetime, str] | None = None
    columns = (embeddings.c.paper_id, embeddings.c.vector, embeddings.c.embedded_at)
    while True:
        query = (
            sa.select(*columns)
            .where(embeddings.c.model == model)
            .order_by(embeddings.c.embedded_at, embeddings.c.paper_id)
            .limit(page)
        )
        if since is not None:
            query = query.where(embeddings.c.embedded_at >= since)
        if after is not None:
            # A plain >= bound to seek by, as in search_source.changed_since.
            query = query.where(embeddings.c.embedded_at >= after[0]).where(
                sa.or_(
                    embeddings.c.embedded_at > after[0],
                    sa.and_(embeddings.c.embedded_at == after[0], embeddings.c.paper_id > after[1]),
                )
            )
        rows = conn.execute(query).all()
        if not rows:
            return
        yield [
            StoredVector(row.paper_id, np.frombuffer(row.vector, dtype="<f4"), row.embedded_at)
            for row in rows
        ]
        after = (rows[-1].embedded_at, rows[-1].paper_id)


def get_vectors(conn: sa.Connection, model: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(ids), _ID_CHUNK):
        query = sa.select(embeddings.c.paper_id, embeddings.c.vector).where(
            embeddings.c.model == model, embeddings.c.paper_id.in_(ids[start : start + _ID_CHUNK])
        )
        for paper_id, blob in conn.execute(query):
            found[paper_id] = np.frombuffer(blob, dtype="<f4")
    return found


def model_state(conn: sa.Connection, model: str) -> tuple[int, datetime | None]:
    """How many vectors `model` has and when the newest was stored."""
    count, latest = conn.execute(
        sa.select(sa.func.count(), sa.func.max(embeddings.c.embedded_at)).where(
            embeddings.c.model == model
        )
    ).one()
    return count, latest


def latest_embedded_at(conn: sa.Connection, model: str) -> datetime | None:
    """When `model`'s newest vector was stored: one index seek, unlike model_state's count."""
    query = sa.select(sa.func.max(embeddings.c.embedded_at)).where(embeddings.c.model == model)
    return conn.execute(query).scalar()


def model_ids(conn: sa.Connection, model: str) -> set[str]:
    return set(
        conn.execute(sa.select(embeddings.c.paper_id).where(embeddings.c.model == model)).scalars()
    )


def models(conn: sa.Connection) -> dict[str, int]:
    """Every model with stored vectors, and how many."""
    query = sa.select(embeddings.c.model, sa.func.count()).group_by(embeddings.c.model)
    return {model: count for model, count in conn.execute(query)}
