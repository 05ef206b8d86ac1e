"""Shelves from the database: papers, their stored vectors and their latest upvotes.

Called by the digest (once per edition), `paperfeed picks` (once per command) and the
benchmark. Reads only; the SQL itself lives in storage/.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np
import sqlalchemy as sa

from paperfeed.models import StoredPaper
from paperfeed.picks.shelf import BACKGROUND_SIZE, Shelf, ShelfPaper
from paperfeed.storage import embeddings, papers, signals


def shelf_paper(stored: StoredPaper, latest: dict[str, float] | None = None) -> ShelfPaper:
    paper = stored.paper
    return ShelfPaper(
        id=paper.id,
        title=paper.title,
        abstract=paper.abstract,
        authors=tuple(paper.authors),
        categories=tuple(paper.categories),
        upvotes=float((latest or {}).get("upvotes", 0.0)),
    )


def load_papers(
    conn: sa.Connection, ids: Iterable[str], model: str | None
) -> tuple[list[ShelfPaper], dict[str, np.ndarray]]:
    """The stored papers among `ids` (unknown ids are left out) and their vectors."""
    wanted = list(dict.fromkeys(ids))
    found = papers.get_stored(conn, wanted)
    return _with_signals(conn, [found[i] for i in wanted if i in found], model)


def load_background(
    conn: sa.Connection,
    model: str | None,
    *,
    published_before: datetime | None = None,
    limit: int = BACKGROUND_SIZE,
) -> tuple[list[ShelfPaper], dict[str, np.ndarray]]:
    """The newest `limit` papers published before a time: what a reader did not pick."""
    stored = papers.list_newest(conn, limit=limit, published_before=published_before)
    return _with_signals(conn, stored, model)


def build_shelf(
    conn: sa.Connection,
    model: str | None,
    candidate_ids: Sequence[str],
    own_ids: Sequence[str] = (),
    *,
    published_before: datetime | None = None,
) -> Shelf:
    """A shelf of the candidates, the reader's own papers and background papers."""
    listed, vectors = load_papers(conn, [*candidate_ids, *own_ids], model)
    background, background_vectors = load_background(conn, model, published_before=published_before)
    return Shelf(
        [*listed, *background],
        {**background_vectors, **vectors},
        background=[p.id for p in background],
    )


def _with_signals(
    conn: sa.Connection, stored: list[StoredPaper], model: str | None
) -> tuple[list[ShelfPaper], dict[str, np.ndarray]]:
    ids = [s.paper.id for s in stored]
    latest = signals.latest_values(conn, ids)
    vectors = embeddings.get_vectors(conn, model, ids) if model else {}
    return [shelf_paper(s, latest.get(s.paper.id)) for s in stored], vectors
