"""A user's upvotes, saved papers and named collections, and the counts pages show."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from paperfeed.storage.dialect import insert_ignoring_conflicts
from paperfeed.storage.tables import (
    as_utc,
    collection_papers,
    collections,
    paper_categories,
    saves,
    upvotes,
)

MARKS = {"upvote": upvotes, "save": saves}


def mark(conn: sa.Connection, kind: str, user_id: int, paper_id: str, at: datetime) -> bool:
    """Upvote or save; True when it is new (doing it twice counts once)."""
    stored = conn.execute(
        insert_ignoring_conflicts(conn, MARKS[kind]).returning(MARKS[kind].c.paper_id),
        {"user_id": user_id, "paper_id": paper_id, "created_at": at},
    )
    return stored.first() is not None


def unmark(conn: sa.Connection, kind: str, user_id: int, paper_id: str) -> bool:
    table = MARKS[kind]
    removed = conn.execute(
        sa.delete(table).where(table.c.user_id == user_id, table.c.paper_id == paper_id)
    )
    return removed.rowcount > 0


def counts(conn: sa.Connection, kind: str, paper_ids: Iterable[str]) -> dict[str, int]:
    table = MARKS[kind]
    ids = list(paper_ids)
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(table.c.paper_id, sa.func.count())
        .where(table.c.paper_id.in_(ids))
        .group_by(table.c.paper_id)
    )
    return dict(rows.all())


def marked_by(conn: sa.Connection, kind: str, user_id: int, paper_ids: Iterable[str]) -> set[str]:
    table = MARKS[kind]
    ids = list(paper_ids)
    if not ids:
        return set()
    rows = conn.execute(
        sa.select(table.c.paper_id).where(table.c.user_id == user_id, table.c.paper_id.in_(ids))
    )
    return set(rows.scalars())


def marks_of(conn: sa.Connection, kind: str, user_id: int) -> list[tuple[str, datetime]]:
    """(paper_id, when) of everything one user upvoted or saved, newest first."""
    table = MARKS[kind]
    rows = conn.execute(
        sa.select(table.c.paper_id, table.c.created_at)
        .where(table.c.user_id == user_id)
        .order_by(table.c.created_at.desc(), table.c.paper_id)
    )
    return [(pid, as_utc(at)) for pid, at in rows]


def marks_in_window(
    conn: sa.Connection, kind: str, start: datetime, end: datetime, category: str | None = None
) -> list[tuple[str, datetime]]:
    """(paper_id, when) of every upvote or save made in (start, end], for trending."""
    table = MARKS[kind]
    query = sa.select(table.c.paper_id, table.c.created_at).where(
        table.c.created_at > start, table.c.created_at <= end
    )
    if category:
        query = query.where(
            table.c.paper_id.in_(
                sa.select(paper_categories.c.paper_id).where(
                    paper_categories.c.category == category
                )
            )
        )
    return [(pid, as_utc(at)) for pid, at in conn.execute(query)]


def create_collection(conn: sa.Connection, user_id: int, name: str, at: datetime) -> int:
    """The id of the user's collection with this name, made now if there is none."""
    conn.execute(
        insert_ignoring_conflicts(conn, collections),
        {"user_id": user_id, "name": name, "created_at": at},
    )
    collection_id: int = conn.execute(
        sa.select(collections.c.id).where(
            collections.c.user_id == user_id, collections.c.name == name
        )
    ).scalar_one()
    return collection_id


def collections_of(conn: sa.Connection, user_id: int) -> list[dict[str, Any]]:
    """The user's collections by name, each with its paper ids (newest first)."""
    rows = conn.execute(
        sa.select(collections.c.id, collections.c.name, collections.c.created_at)
        .where(collections.c.user_id == user_id)
        .order_by(collections.c.name)
    ).all()
    found = {
        row.id: {"id": row.id, "name": row.name, "created_at": as_utc(row.created_at), "papers": []}
        for row in rows
    }
    if found:
        members = conn.execute(
            sa.select(collection_papers.c.collection_id, collection_papers.c.paper_id)
            .where(collection_papers.c.collection_id.in_(list(found)))
            .order_by(collection_papers.c.added_at.desc(), collection_papers.c.paper_id)
        )
        for collection_id, paper_id in members:
            found[collection_id]["papers"].append(paper_id)
    return list(found.values())


def owns_collection(conn: sa.Connection, user_id: int, collection_id: int) -> bool:
    return (
        conn.execute(
            sa.select(collections.c.id).where(
                collections.c.id == collection_id, collections.c.user_id == user_id
            )
        ).first()
        is not None
    )


def delete_collection(conn: sa.Connection, user_id: int, collection_id: int) -> bool:
    removed = conn.execute(
        sa.delete(collections).where(
            collections.c.id == collection_id, collections.c.user_id == user_id
        )
    )
    return removed.rowcount > 0


def add_to_collection(conn: sa.Connection, collection_id: int, paper_id: str, at: datetime) -> None:
    conn.execute(
        insert_ignoring_conflicts(conn, collection_papers),
        {"collection_id": collection_id, "paper_id": paper_id, "added_at": at},
    )


def remove_from_collection(conn: sa.Connection, collection_id: int, paper_id: str) -> None:
    conn.execute(
        sa.delete(collection_papers).where(
            collection_papers.c.collection_id == collection_id,
            collection_papers.c.paper_id == paper_id,
        )
    )
