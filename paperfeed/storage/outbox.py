"""The outbox: mail queued in a request's transaction, claimed and sent by a drainer.

Claims are leases, as in the delivery ledger: a drainer that dies leaves its rows `claimed`
until `claim_expires_at`, after which any drainer takes them over. A message leaves the table
(set to NULL) as soon as its row is finished, because a queued sign-in mail holds a live link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from paperfeed.storage.leases import due
from paperfeed.storage.tables import outbox

OPEN = ("pending", "retry", "claimed")


@dataclass(frozen=True, slots=True)
class Queued:
    id: int
    kind: str
    message: bytes | None
    attempts: int


def add(
    conn: sa.Connection, kind: str, message: bytes | None, now: datetime, expires_at: datetime
) -> int:
    row_id: int = conn.execute(
        sa.insert(outbox)
        .values(kind=kind, message=message, status="pending", created_at=now, expires_at=expires_at)
        .returning(outbox.c.id)
    ).scalar_one()
    return row_id


def any_due(conn: sa.Connection, now: datetime) -> bool:
    """Whether `claim` would take anything now (a read: an idle drainer takes no lock)."""
    query = sa.select(outbox.c.id).where(outbox.c.status.in_(OPEN), due(outbox, now)).limit(1)
    return conn.execute(query).first() is not None


def claim(
    conn: sa.Connection, worker: str, now: datetime, lease_until: datetime, limit: int
) -> list[Queued]:
    """Take up to `limit` due rows, oldest first."""
    c = outbox.c
    query = (
        sa.select(c.id, c.kind, c.message, c.attempts)
        .where(c.status.in_(OPEN), due(outbox, now))
        .order_by(c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    taken = [Queued(*row) for row in conn.execute(query).all()]
    if taken:
        conn.execute(
            sa.update(outbox)
            .where(c.id.in_([q.id for q in taken]))
            .values(status="claimed", claimed_by=worker, claim_expires_at=lease_until)
        )
    return taken


def expire(conn: sa.Connection, now: datetime) -> int:
    """Give up on open rows whose message is no use any more (a sign-in link past its life)."""
    c = outbox.c
    done = conn.execute(
        sa.update(outbox)
        .where(c.status.in_(OPEN), c.expires_at <= now)
        .values(
            status="expired",
            message=None,
            finished_at=now,
            claimed_by=None,
            claim_expires_at=None,
        )
    )
    return done.rowcount


def finish(conn: sa.Connection, row_id: int, status: str, now: datetime, note: str = "") -> None:
    """sent, failed or skipped: the row is done and its message forgotten."""
    conn.execute(
        sa.update(outbox)
        .where(outbox.c.id == row_id)
        .values(
            status=status,
            message=None,
            finished_at=now,
            attempts=outbox.c.attempts + (0 if status == "skipped" else 1),
            note=note[:1000] or None,
            claimed_by=None,
            claim_expires_at=None,
        )
    )


def retry(conn: sa.Connection, row_id: int, next_attempt_at: datetime, note: str) -> None:
    conn.execute(
        sa.update(outbox)
        .where(outbox.c.id == row_id)
        .values(
            status="retry",
            next_attempt_at=next_attempt_at,
            attempts=outbox.c.attempts + 1,
            note=note[:1000],
            claimed_by=None,
            claim_expires_at=None,
        )
    )


def forget_finished(conn: sa.Connection, before: datetime) -> int:
    c = outbox.c
    done = conn.execute(sa.delete(outbox).where(c.status.not_in(OPEN), c.finished_at < before))
    return done.rowcount


def summary(conn: sa.Connection, *, since: datetime) -> dict[str, Any]:
    """For `paperfeed status`: open rows (and the oldest one's age), and what finished since."""
    c = outbox.c
    open_rows = conn.execute(
        sa.select(sa.func.count(), sa.func.min(c.created_at)).where(c.status.in_(OPEN))
    ).one()
    finished = conn.execute(
        sa.select(c.status, sa.func.count())
        .where(c.status.not_in(OPEN), c.finished_at >= since)
        .group_by(c.status)
    ).all()
    last_problem = conn.execute(
        sa.select(c.note)
        .where(c.note.is_not(None), c.status.in_(("retry", "failed")))
        .order_by(c.id.desc())
        .limit(1)
    ).scalar()
    return {
        "open": open_rows[0],
        "oldest_open_at": open_rows[1],
        "finished": dict(finished),
        "last_problem": last_problem,
    }
