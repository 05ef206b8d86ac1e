"""What the search indexes read from the database: changed papers in pages, ids, a summary.

The indexes (search.keyword, search.vectors) are derived data that catch up from
papers.last_changed_at; the database stays the only source of truth.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa

from paperfeed.storage.tables import as_utc, papers

_PAGE = 2_000
# Writers stamp last_changed_at before they commit (an ingest batch once it holds the writers'
# lock), so a paper can become visible with a stamp a little older than the newest one already
# seen. Whatever catches up from a stamp (the search indexes, the embedding runs) re-reads this
# much before it; batches commit within seconds, so this is a wide margin.
LATE_COMMIT_SLACK = timedelta(minutes=10)
_STAMP_PAGE = 5_000


@dataclass(frozen=True, slots=True)
class SearchDoc:
    id: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    published_at: datetime  # first_seen_at when the source gives no date
    last_changed_at: datetime


@dataclass(frozen=True, slots=True)
class CorpusState:
    """Enough to tell, cheaply, whether anything changed since an index last looked."""

    count: int
    last_changed_at: datetime | None


def corpus_state(conn: sa.Connection) -> CorpusState:
    count, latest = conn.execute(
        sa.select(sa.func.count(), sa.func.max(papers.c.last_changed_at))
    ).one()
    return CorpusState(count, as_utc(latest) if latest is not None else None)


def latest_change(conn: sa.Connection) -> datetime | None:
    """The newest last_changed_at alone: one seek in its index, however many papers (the
    count beside it in corpus_state reads them all)."""
    latest = conn.execute(sa.select(sa.func.max(papers.c.last_changed_at))).scalar()
    return as_utc(latest) if latest is not None else None


_DOC_COLUMNS = (
    papers.c.id,
    papers.c.title,
    papers.c.abstract,
    papers.c.authors,
    papers.c.categories,
    papers.c.published_at,
    papers.c.first_seen_at,
    papers.c.last_changed_at,
)


def changed_since(conn: sa.Connection, since: datetime | None) -> Iterator[list[SearchDoc]]:
    """Pages of papers whose last_changed_at is at or after `since` (all papers for None)."""
    for rows in _pages(conn, _DOC_COLUMNS, since, None, _PAGE):
        yield [_doc(row) for row in rows]


def stamps_between(
    conn: sa.Connection, since: datetime, until: datetime
) -> Iterator[list[tuple[str, datetime]]]:
    """Pages of (id, last_changed_at) of papers changed from `since` to `until` inclusive: what
    a catch-up checks before reading whole papers (a fraction of the bytes)."""
    for rows in _pages(conn, (papers.c.id, papers.c.last_changed_at), since, until, _STAMP_PAGE):
        yield [(row.id, row.last_changed_at) for row in rows]


def _pages(
    conn: sa.Connection,
    columns: tuple[sa.ColumnElement[Any], ...],
    since: datetime | None,
    until: datetime | None,
    size: int,
) -> Iterator[Sequence[sa.Row[*tuple[Any, ...]]]]:
    """Rows in (last_changed_at, id) order, a page at a time, each page one short query."""
    after: tuple[datetime, str] | None = None
    while True:
        query = sa.select(*columns).order_by(papers.c.last_changed_at, papers.c.id).limit(size)
        if since is not None:
            query = query.where(papers.c.last_changed_at >= since)
        if until is not None:
            query = query.where(papers.c.last_changed_at <= until)
        if after is not None:
            # The plain >= bound lets both databases seek the index instead of rescanning
            # every earlier row per page (quadratic over a 100k catch-up).
            query = query.where(papers.c.last_changed_at >= after[0]).where(
                sa.or_(
                    papers.c.last_changed_at > after[0],
                    sa.and_(papers.c.last_changed_at == after[0], papers.c.id > after[1]),
                )
            )
        rows = conn.execute(query).all()
        if not rows:
            return
        yield rows
        after = (rows[-1].last_changed_at, rows[-1].id)


def docs_by_id(conn: sa.Connection, ids: list[str]) -> list[SearchDoc]:
    found: list[SearchDoc] = []
    for start in range(0, len(ids), 900):
        query = sa.select(*_DOC_COLUMNS).where(papers.c.id.in_(ids[start : start + 900]))
        found.extend(_doc(row) for row in conn.execute(query))
    return found


def all_ids(conn: sa.Connection) -> set[str]:
    return set(conn.execute(sa.select(papers.c.id)).scalars())


def ids_with_title(conn: sa.Connection, title: str) -> list[str]:
    """Papers whose title is exactly `title`, ignoring case (for pinning an exact title)."""
    query = sa.select(papers.c.id).where(sa.func.lower(papers.c.title) == title.lower()).limit(5)
    return list(conn.execute(query).scalars())


def _doc(row: sa.Row[*tuple[Any, ...]]) -> SearchDoc:
    return SearchDoc(
        id=row.id,
        title=row.title,
        abstract=row.abstract,
        authors=orjson.loads(row.authors),
        categories=orjson.loads(row.categories),
        published_at=row.published_at or row.first_seen_at,
        last_changed_at=row.last_changed_at,
    )
