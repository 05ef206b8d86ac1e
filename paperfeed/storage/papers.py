"""Read and write papers and their category rows.

Writes take whole batches (one SELECT for the batch's ids, one executemany per statement), which
is what keeps bulk loads fast. Deciding *what* to write — merging a new record into the stored
one — is ingest's job; this module stores what it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from paperfeed.errors import NotFound
from paperfeed.models import Paper, StoredPaper, Version
from paperfeed.storage.dialect import bulk_insert
from paperfeed.storage.tables import paper_categories, papers

# SQLite allows 32,766 bound parameters per statement; stay far below it.
_ID_CHUNK = 900


def get_stored(conn: sa.Connection, ids: Iterable[str]) -> dict[str, StoredPaper]:
    """The stored papers among `ids`, by id."""
    found: dict[str, StoredPaper] = {}
    id_list = list(dict.fromkeys(ids))
    for start in range(0, len(id_list), _ID_CHUNK):
        chunk = id_list[start : start + _ID_CHUNK]
        rows = conn.execute(sa.select(papers).where(papers.c.id.in_(chunk)))
        for row in rows.mappings():
            found[row["id"]] = _stored_from_row(row)
    return found


def get_paper(conn: sa.Connection, paper_id: str) -> StoredPaper:
    row = conn.execute(sa.select(papers).where(papers.c.id == paper_id)).mappings().first()
    if row is None:
        raise NotFound(f"no paper with id {paper_id!r}")
    return _stored_from_row(row)


def list_newest(
    conn: sa.Connection,
    *,
    limit: int,
    offset: int = 0,
    category: str | None = None,
    published_before: datetime | None = None,
) -> list[StoredPaper]:
    """Papers newest first (by publication time, then by when paperfeed first saw them),
    optionally only those listed in one category or published before a time."""
    query = sa.select(papers)
    if published_before is not None:
        query = query.where(papers.c.published_at < published_before)
    if category:
        query = query.where(
            papers.c.id.in_(
                sa.select(paper_categories.c.paper_id).where(
                    paper_categories.c.category == category
                )
            )
        )
    query = (
        query.order_by(
            papers.c.published_at.desc().nulls_last(),
            papers.c.first_seen_at.desc(),
            papers.c.id.desc(),
        )
        .limit(limit)
        .offset(offset)
    )
    return [_stored_from_row(row) for row in conn.execute(query).mappings()]


def probe(conn: sa.Connection) -> None:
    """Read one row: raises when the database cannot answer, at any size."""
    conn.execute(sa.select(papers.c.id).limit(1)).first()


def count_papers(conn: sa.Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(papers)).scalar_one()


def count_by_category(conn: sa.Connection, *, limit: int = 200) -> list[tuple[str, int]]:
    """Categories with how many papers list them, most papers first."""
    count = sa.func.count().label("papers")
    query = (
        sa.select(paper_categories.c.category, count)
        .group_by(paper_categories.c.category)
        .order_by(count.desc(), paper_categories.c.category)
        .limit(limit)
    )
    return [(category, papers) for category, papers in conn.execute(query)]


def count_by_source(conn: sa.Connection) -> dict[str, int]:
    """How many papers each source's metadata is current for."""
    query = sa.select(papers.c.metadata_source, sa.func.count()).group_by(papers.c.metadata_source)
    return {source: count for source, count in conn.execute(query)}


def latest_published_at(conn: sa.Connection) -> datetime | None:
    latest: datetime | None = conn.execute(
        sa.select(sa.func.max(papers.c.published_at))
    ).scalar_one()
    return latest


def delete_papers(conn: sa.Connection, ids: Sequence[str]) -> int:
    """Remove papers with everything hanging off them (categories, signals, vectors)."""
    removed = 0
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = list(ids[start : start + _ID_CHUNK])
        conn.execute(paper_categories.delete().where(paper_categories.c.paper_id.in_(chunk)))
        removed += conn.execute(papers.delete().where(papers.c.id.in_(chunk))).rowcount
    return removed


def insert_papers(conn: sa.Connection, stored: Sequence[StoredPaper]) -> None:
    if not stored:
        return
    bulk_insert(conn, papers, [_row_from_stored(s) for s in stored])
    bulk_insert(conn, paper_categories, _category_rows(stored))


def update_papers(conn: sa.Connection, stored: Sequence[StoredPaper]) -> None:
    if not stored:
        return
    rows = [_row_from_stored(s) for s in stored]
    for row in rows:
        row["match_id"] = row.pop("id")
    statement = (
        papers.update()
        .where(papers.c.id == sa.bindparam("match_id"))
        .values({name: sa.bindparam(name) for name in rows[0] if name != "match_id"})
    )
    conn.execute(statement, rows)
    ids = [s.paper.id for s in stored]
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start : start + _ID_CHUNK]
        conn.execute(paper_categories.delete().where(paper_categories.c.paper_id.in_(chunk)))
    category_rows = _category_rows(stored)
    if category_rows:
        conn.execute(paper_categories.insert(), category_rows)


def _category_rows(stored: Sequence[StoredPaper]) -> list[dict[str, Any]]:
    return [
        {"paper_id": s.paper.id, "category": category, "position": position}
        for s in stored
        for position, category in enumerate(dict.fromkeys(s.paper.categories))
    ]


def _row_from_stored(stored: StoredPaper) -> dict[str, Any]:
    paper = stored.paper
    return {
        "id": paper.id,
        "version": paper.version,
        # orjson writes the Version dataclasses, datetimes as ISO 8601, in C.
        "versions": orjson.dumps(paper.versions).decode(),
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": orjson.dumps(paper.authors).decode(),
        "categories": orjson.dumps(paper.categories).decode(),
        "primary_category": paper.primary_category,
        "comment": paper.comment,
        "journal_ref": paper.journal_ref,
        "doi": paper.doi,
        "abs_url": paper.abs_url,
        "pdf_url": paper.pdf_url,
        "code_url": paper.code_url,
        "project_url": paper.project_url,
        "published_at": paper.published_at,
        "updated_at": paper.updated_at,
        "metadata_source": paper.source,
        "sources": orjson.dumps(stored.sources).decode(),
        "first_seen_at": stored.first_seen_at,
        "last_changed_at": stored.last_changed_at,
    }


def _stored_from_row(row: sa.RowMapping) -> StoredPaper:
    paper = Paper(
        id=row["id"],
        title=row["title"],
        abstract=row["abstract"],
        authors=orjson.loads(row["authors"]),
        categories=orjson.loads(row["categories"]),
        primary_category=row["primary_category"],
        version=row["version"],
        versions=[
            Version(
                v["number"],
                datetime.fromisoformat(v["submitted_at"]) if v["submitted_at"] else None,
            )
            for v in orjson.loads(row["versions"])
        ],
        published_at=row["published_at"],
        updated_at=row["updated_at"],
        comment=row["comment"],
        journal_ref=row["journal_ref"],
        doi=row["doi"],
        abs_url=row["abs_url"],
        pdf_url=row["pdf_url"],
        code_url=row["code_url"],
        project_url=row["project_url"],
        source=row["metadata_source"],
    )
    return StoredPaper(
        paper=paper,
        sources=orjson.loads(row["sources"]),
        first_seen_at=row["first_seen_at"],
        last_changed_at=row["last_changed_at"],
    )


def new_between(
    conn: sa.Connection, start: datetime, end: datetime, *, limit: int = 20_000
) -> list[StoredPaper]:
    """Papers that became known or were published in [start, end): a digest's candidates."""
    query = (
        sa.select(papers)
        .where(
            sa.or_(
                sa.and_(papers.c.first_seen_at >= start, papers.c.first_seen_at < end),
                sa.and_(papers.c.published_at >= start, papers.c.published_at < end),
            )
        )
        .order_by(papers.c.published_at.desc().nulls_last(), papers.c.id)
        .limit(limit)
    )
    return [_stored_from_row(row) for row in conn.execute(query).mappings()]


def count_first_seen_between(conn: sa.Connection, start: datetime, end: datetime) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(papers)
        .where(papers.c.first_seen_at >= start, papers.c.first_seen_at < end)
    )
    return conn.execute(query).scalar_one()
