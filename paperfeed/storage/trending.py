"""What trending reads (signal readings around a window) and keeps (frozen daily editions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from paperfeed.models import Signal
from paperfeed.storage.dialect import insert_ignoring_conflicts
from paperfeed.storage.tables import (
    as_utc,
    paper_categories,
    paper_views,
    signals,
    trending_editions,
    trending_entries,
)


@dataclass
class Entry:
    paper_id: str
    score: float
    parts: list[dict[str, Any]]


@dataclass
class Edition:
    day: date
    window: str
    category: str  # "" for all categories
    basis: str  # "engagement" or "newest"
    note: str | None
    taken_at: datetime
    entries: list[Entry] = field(default_factory=list)


def readings_for_window(
    conn: sa.Connection, start: datetime, end: datetime, category: str | None = None
) -> list[Signal]:
    """Every reading up to `end` of each series that has a reading in (start, end].

    The readings before `start` are needed too: an increment inside the window is the
    difference from the reading before it.
    """
    active = sa.select(signals.c.paper_id, signals.c.source, signals.c.kind).where(
        signals.c.observed_at > start, signals.c.observed_at <= end
    )
    if category:
        active = active.where(
            signals.c.paper_id.in_(
                sa.select(paper_categories.c.paper_id).where(
                    paper_categories.c.category == category
                )
            )
        )
    query = sa.select(signals).where(
        signals.c.observed_at <= end,
        sa.tuple_(signals.c.paper_id, signals.c.source, signals.c.kind).in_(active.distinct()),
    )
    return [
        Signal(r.paper_id, r.source, r.kind, r.value, as_utc(r.observed_at))
        for r in conn.execute(query)
    ]


def latest_reading_at(conn: sa.Connection, before: datetime) -> datetime | None:
    """When the newest engagement (a reading or a view) at or before `before` happened."""
    found = [
        conn.execute(sa.select(sa.func.max(column)).where(column <= before)).scalar_one()
        for column in (signals.c.observed_at, paper_views.c.viewed_at)
    ]
    found = [as_utc(value) for value in found if value is not None]
    return max(found) if found else None


def get_edition(conn: sa.Connection, day: date, window: str, category: str) -> Edition | None:
    key = (
        (trending_editions.c.day == day)
        & (trending_editions.c.time_window == window)
        & (trending_editions.c.category == category)
    )
    row = conn.execute(sa.select(trending_editions).where(key)).mappings().first()
    if row is None:
        return None
    entries = conn.execute(
        sa.select(trending_entries)
        .where(
            trending_entries.c.day == day,
            trending_entries.c.time_window == window,
            trending_entries.c.category == category,
        )
        .order_by(trending_entries.c.position)
    ).mappings()
    return Edition(
        day=row["day"],
        window=window,
        category=category,
        basis=row["basis"],
        note=row["note"],
        taken_at=as_utc(row["taken_at"]),
        entries=[Entry(e["paper_id"], e["score"], orjson.loads(e["parts"])) for e in entries],
    )


def save_edition(conn: sa.Connection, edition: Edition) -> bool:
    """Store an edition unless one exists for its key; True when this call stored it.

    Two processes taking the same snapshot race harmlessly: the first insert wins and the
    second stores nothing, so an edition never changes once taken.
    """
    # RETURNING says whether this insert won; rowcount is not reliable across drivers.
    inserted = conn.execute(
        insert_ignoring_conflicts(conn, trending_editions).returning(trending_editions.c.day),
        {
            "day": edition.day,
            "time_window": edition.window,
            "category": edition.category,
            "basis": edition.basis,
            "note": edition.note,
            "taken_at": edition.taken_at,
        },
    )
    if inserted.first() is None:
        return False
    if edition.entries:
        conn.execute(
            sa.insert(trending_entries),
            [
                {
                    "day": edition.day,
                    "time_window": edition.window,
                    "category": edition.category,
                    "position": position,
                    "paper_id": entry.paper_id,
                    "score": entry.score,
                    "parts": orjson.dumps(entry.parts).decode(),
                }
                for position, entry in enumerate(edition.entries, start=1)
            ],
        )
    return True
