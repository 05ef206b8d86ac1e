"""Local engagement that is not a reading from a source: paper views, and instance secrets."""

from __future__ import annotations

import secrets
from datetime import date, datetime

import sqlalchemy as sa

from paperfeed.storage.dialect import insert_ignoring_conflicts
from paperfeed.storage.tables import as_utc, instance_secrets, paper_categories, paper_views


def stored_secret(conn: sa.Connection, name: str) -> str | None:
    """The secret `name` if it was made already (a read)."""
    query = sa.select(instance_secrets.c.value).where(instance_secrets.c.name == name)
    return conn.execute(query).scalar()


def instance_secret(conn: sa.Connection, name: str) -> str:
    """A random key shared by every process on this database, made the first time it is asked
    for (two processes racing both read the one that was stored first)."""
    conn.execute(
        insert_ignoring_conflicts(conn, instance_secrets),
        {"name": name, "value": secrets.token_hex(32)},
    )
    value: str = conn.execute(
        sa.select(instance_secrets.c.value).where(instance_secrets.c.name == name)
    ).scalar_one()
    return value


def record_view(conn: sa.Connection, paper_id: str, visitor: str, at: datetime) -> bool:
    """Count a view unless this visitor already viewed this paper today; True when counted."""
    stored = conn.execute(
        insert_ignoring_conflicts(conn, paper_views).returning(paper_views.c.paper_id),
        {"paper_id": paper_id, "day": at.date(), "visitor": visitor, "viewed_at": at},
    )
    return stored.first() is not None


def record_views(conn: sa.Connection, views: list[tuple[str, str, datetime]]) -> None:
    """Count many (paper_id, visitor, at) views in one statement, skipping repeats of a day."""
    if views:
        conn.execute(
            insert_ignoring_conflicts(conn, paper_views),
            [
                {"paper_id": pid, "day": at.date(), "visitor": visitor, "viewed_at": at}
                for pid, visitor, at in views
            ],
        )


def views_in_window(
    conn: sa.Connection, start: datetime, end: datetime, category: str | None = None
) -> list[tuple[str, datetime]]:
    """(paper_id, viewed_at) of every counted view in (start, end]."""
    query = sa.select(paper_views.c.paper_id, paper_views.c.viewed_at).where(
        paper_views.c.viewed_at > start, paper_views.c.viewed_at <= end
    )
    if category:
        query = query.where(
            paper_views.c.paper_id.in_(
                sa.select(paper_categories.c.paper_id).where(
                    paper_categories.c.category == category
                )
            )
        )
    return [(pid, as_utc(at)) for pid, at in conn.execute(query)]


def count_views(conn: sa.Connection, paper_id: str, day: date) -> int:
    return conn.execute(
        sa.select(sa.func.count())
        .select_from(paper_views)
        .where(paper_views.c.paper_id == paper_id, paper_views.c.day == day)
    ).scalar_one()
