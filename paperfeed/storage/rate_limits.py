"""Fixed-window rate-limit counters in the database, so a limit holds across processes."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from paperfeed.storage.tables import rate_limits


def window_start(now: datetime, span: timedelta) -> datetime:
    seconds = int(span.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def hit(conn: sa.Connection, key: str, now: datetime, span: timedelta) -> int:
    """Count one more event for `key` in the window holding `now`; returns the new count."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    start = window_start(now, span)
    statement = module.insert(rate_limits).values(key=key, window_start=start, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"count": rate_limits.c.count + 1}
    ).returning(rate_limits.c.count)
    return conn.execute(statement).scalar_one()


def forget_before(conn: sa.Connection, before: datetime) -> None:
    conn.execute(sa.delete(rate_limits).where(rate_limits.c.window_start < before))


def over_limits(conn: sa.Connection, key: str, limits, now: datetime) -> bool:  # noqa: ANN001
    """Count one event for `key` in each (span, most) window; True if any is now over."""
    over = False
    for span, most in limits:
        counted = hit(conn, f"{key} {int(span.total_seconds())}", now, span)
        over = over or counted > most
    return over
