"""Claims on the worker's daily jobs: one worker runs each (job, day); a dead one's lease ends."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from paperfeed.storage.dialect import insert_ignoring_conflicts
from paperfeed.storage.tables import worker_jobs


def claim(
    conn: sa.Connection,
    name: str,
    day: date,
    worker: str,
    now: datetime,
    lease_until: datetime,
    *,
    retry_failed: timedelta = timedelta(0),
) -> bool:
    """True when this worker now holds (name, day): new, abandoned by another (lease over), or
    failed at least `retry_failed` ago."""
    inserted = conn.execute(
        insert_ignoring_conflicts(conn, worker_jobs).returning(worker_jobs.c.name),
        {
            "name": name,
            "day": day,
            "status": "running",
            "claimed_by": worker,
            "lease_until": lease_until,
        },
    ).first()
    if inserted:
        return True
    c = worker_jobs.c
    taken = conn.execute(
        sa.update(worker_jobs)
        .where(
            c.name == name,
            c.day == day,
            sa.or_(
                sa.and_(c.status == "failed", c.finished_at <= now - retry_failed),
                sa.and_(c.status == "running", c.lease_until <= now),
            ),
        )
        .values(status="running", claimed_by=worker, lease_until=lease_until, note=None)
    )
    return taken.rowcount > 0


def renew(conn: sa.Connection, name: str, day: date, worker: str, lease_until: datetime) -> bool:
    """Extend this worker's lease on a running job; False when it is no longer this worker's."""
    c = worker_jobs.c
    renewed = conn.execute(
        sa.update(worker_jobs)
        .where(c.name == name, c.day == day, c.claimed_by == worker, c.status == "running")
        .values(lease_until=lease_until)
    )
    return renewed.rowcount > 0


def finish(
    conn: sa.Connection, name: str, day: date, worker: str, now: datetime, ok: bool, note: str
) -> None:
    conn.execute(
        sa.update(worker_jobs)
        .where(worker_jobs.c.name == name, worker_jobs.c.day == day)
        .where(worker_jobs.c.claimed_by == worker)  # not when another took it over meanwhile
        .values(status="done" if ok else "failed", finished_at=now, note=note[:1000])
    )


def release(
    conn: sa.Connection, name: str, day: date, worker: str, now: datetime, note: str
) -> None:
    """Hand a running job back unfinished: its lease ends now, so any worker may take it."""
    c = worker_jobs.c
    conn.execute(
        sa.update(worker_jobs)
        .where(c.name == name, c.day == day, c.claimed_by == worker, c.status == "running")
        .values(lease_until=now, note=note[:1000])
    )


def state(conn: sa.Connection, name: str, day: date) -> dict[str, Any] | None:
    row = (
        conn.execute(
            sa.select(worker_jobs).where(worker_jobs.c.name == name, worker_jobs.c.day == day)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def could_claim(
    conn: sa.Connection, name: str, day: date, now: datetime, *, retry_failed: timedelta
) -> bool:
    """Whether `claim` might take (name, day) now; a read, so that an idle worker's tick takes
    no write lock (on SQLite every write, even a no-op UPDATE, queues behind the writer)."""
    row = state(conn, name, day)
    if row is None:
        return True
    if row["status"] == "failed":
        finished_at: datetime = row["finished_at"]
        return finished_at <= now - retry_failed
    if row["status"] == "running":
        lease_until: datetime = row["lease_until"]
        return lease_until <= now
    return False
