"""The delivery ledger: one row per (edition day, subscriber), claimed before a digest is sent
and marked after the server's 250 reply.

Claims are leases: a worker that dies leaves rows `claimed` until `claim_expires_at`, after
which any worker takes them over. On PostgreSQL, claiming uses FOR UPDATE SKIP LOCKED so many
workers share one edition without waiting on each other; SQLite runs one writer at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from paperfeed.storage.dialect import insert_ignoring_conflicts
from paperfeed.storage.leases import due
from paperfeed.storage.tables import UtcDateTime, deliveries

OPEN = ("pending", "retry", "claimed")


def not_in_ledger(conn: sa.Connection, day: date, subscriber_ids: Iterable[int]) -> list[int]:
    """Those of `subscriber_ids` that have no row for `day` yet (a read: no lock taken)."""
    query = sa.select(deliveries.c.subscriber_id).where(deliveries.c.edition_day == day)
    present = set(conn.execute(query).scalars())
    return [s for s in subscriber_ids if s not in present]


def ensure(conn: sa.Connection, day: date, subscriber_ids: Iterable[int]) -> None:
    rows = [{"edition_day": day, "subscriber_id": s, "status": "pending"} for s in subscriber_ids]
    for start in range(0, len(rows), 5000):
        conn.execute(insert_ignoring_conflicts(conn, deliveries), rows[start : start + 5000])


def claim(
    conn: sa.Connection, day: date, worker: str, now: datetime, lease_until: datetime, limit: int
) -> list[tuple[int, int]]:
    """Take up to `limit` deliveries that are due: (subscriber_id, attempts so far)."""
    c = deliveries.c
    query = (
        sa.select(c.subscriber_id, c.attempts)
        .where(c.edition_day == day, due(deliveries, now))
        .order_by(c.subscriber_id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    taken = conn.execute(query).all()
    if taken:
        conn.execute(
            sa.update(deliveries)
            .where(c.edition_day == day, c.subscriber_id.in_([row[0] for row in taken]))
            .values(status="claimed", claimed_by=worker, claim_expires_at=lease_until)
        )
    return [(row[0], row[1]) for row in taken]


def any_due(conn: sa.Connection, day: date, now: datetime) -> bool:
    """Whether `claim` would take anything now (a read, so an idle worker takes no lock)."""
    query = sa.select(deliveries.c.subscriber_id).where(
        deliveries.c.edition_day == day, due(deliveries, now)
    )
    return conn.execute(query.limit(1)).first() is not None


def release_claims_of(conn: sa.Connection, day: date, workers: Iterable[str]) -> int:
    """Hand back the claims of workers known to be dead, without waiting for their leases."""
    names = list(workers)
    if not names:
        return 0
    done = conn.execute(
        sa.update(deliveries)
        .where(
            deliveries.c.edition_day == day,
            deliveries.c.status == "claimed",
            deliveries.c.claimed_by.in_(names),
        )
        .values(status="pending", claim_expires_at=None)
    )
    return done.rowcount


def claimants(conn: sa.Connection, day: date) -> list[str]:
    query = (
        sa.select(deliveries.c.claimed_by)
        .where(deliveries.c.edition_day == day, deliveries.c.status == "claimed")
        .distinct()
    )
    return [w for w in conn.execute(query).scalars() if w]


def mark_sent(
    conn: sa.Connection,
    day: date,
    subscriber_id: int,
    now: datetime,
    message_id: str,
    paper_ids: list[str],
) -> None:
    conn.execute(
        sa.update(deliveries)
        .where(deliveries.c.edition_day == day, deliveries.c.subscriber_id == subscriber_id)
        .values(
            status="sent",
            sent_at=now,
            message_id=message_id[:255],
            papers=json.dumps(paper_ids),
            attempts=deliveries.c.attempts + 1,
            claimed_by=None,
            claim_expires_at=None,
            note=None,
        )
    )


def mark(
    conn: sa.Connection,
    day: date,
    subscriber_id: int,
    status: str,
    *,
    note: str | None = None,
    next_attempt_at: datetime | None = None,
    attempted: bool = False,
) -> None:
    """Finish or defer a delivery: retry (with next_attempt_at), failed, bounced or skipped."""
    values: dict[str, Any] = {
        "status": status,
        "note": note[:1000] if note else None,
        "next_attempt_at": next_attempt_at,
        "claimed_by": None,
        "claim_expires_at": None,
    }
    if attempted:
        values["attempts"] = deliveries.c.attempts + 1
    conn.execute(
        sa.update(deliveries)
        .where(deliveries.c.edition_day == day, deliveries.c.subscriber_id == subscriber_id)
        .values(values)
    )


def get(conn: sa.Connection, day: date, subscriber_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(
            sa.select(deliveries).where(
                deliveries.c.edition_day == day, deliveries.c.subscriber_id == subscriber_id
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def counts(conn: sa.Connection, day: date) -> dict[str, int]:
    query = (
        sa.select(deliveries.c.status, sa.func.count())
        .where(deliveries.c.edition_day == day)
        .group_by(deliveries.c.status)
    )
    return dict(conn.execute(query).all())


def open_count(conn: sa.Connection, day: date) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(deliveries)
        .where(deliveries.c.edition_day == day, deliveries.c.status.in_(OPEN))
    )
    return conn.execute(query).scalar_one()


def next_retry_at(conn: sa.Connection, day: date) -> datetime | None:
    earliest = sa.func.min(deliveries.c.next_attempt_at, type_=UtcDateTime())
    query = sa.select(earliest).where(
        deliveries.c.edition_day == day, deliveries.c.status == "retry"
    )
    return conn.execute(query).scalar()
