"""Sliding-window rate limits counted in the database, so a limit holds across processes.

Each (span, most) limit counts events in ten buckets per span. The count for "now" adds every
bucket that overlaps the last span, the oldest one whole, so it can over-count a little but never
under-count: no span-long stretch of time, wherever it starts, lets more than `most` through
(a fixed window let 2 × most through across its boundary). `retry_after` says how long until
the oldest buckets have slid out far enough for one more event.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from paperfeed.storage.tables import rate_limits

# One series shared by every way a visitor can make paperfeed mail an address (sign-in links,
# subscription confirmations): its cap bounds the mail all clients together can trigger.
MAIL_TO_ADDRESSES = "mail to addresses"
BUCKETS_PER_SPAN = 10
KEEP = timedelta(days=2)  # longer than any span in use (a day)
Limits = Sequence[tuple[timedelta, int]]


def bucket_start(now: datetime, width_s: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % width_s, tz=now.tzinfo)


def _width_s(span: timedelta) -> int:
    return max(1, int(span.total_seconds()) // BUCKETS_PER_SPAN)


def hit(conn: sa.Connection, key: str, now: datetime, span: timedelta) -> None:
    """Count one more event for `key` in the bucket holding `now`."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    start = bucket_start(now, _width_s(span))
    statement = module.insert(rate_limits).values(key=key, window_start=start, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"count": rate_limits.c.count + 1}
    )
    conn.execute(statement)


def _recent(
    conn: sa.Connection, key: str, now: datetime, span: timedelta
) -> list[tuple[datetime, int]]:
    """(bucket start, count) of the buckets overlapping the last `span`, oldest first."""
    oldest = now - span - timedelta(seconds=_width_s(span))
    query = (
        sa.select(rate_limits.c.window_start, rate_limits.c.count)
        .where(rate_limits.c.key == key, rate_limits.c.window_start > oldest)
        .order_by(rate_limits.c.window_start)
    )
    return [(row[0], row[1]) for row in conn.execute(query)]


def forget_before(conn: sa.Connection, before: datetime) -> None:
    conn.execute(sa.delete(rate_limits).where(rate_limits.c.window_start < before))


def retry_after(conn: sa.Connection, key: str, limits: Limits, now: datetime) -> int | None:
    """None, counting the event, when every (span, most) limit still allows one more for `key`;
    otherwise, counting nothing, the whole seconds until each would. Only events let through
    count, so a client that keeps knocking is not locked out for longer than the limit says."""
    if random.random() < 0.01:
        forget_before(conn, now - KEEP)
    wait = 0.0
    for span, most in limits:
        buckets = _recent(conn, _series(key, span), now, span)
        remaining = sum(count for _, count in buckets)
        if remaining < most:
            continue
        width = timedelta(seconds=_width_s(span))
        for start, count in buckets:  # oldest first: when will enough have slid out?
            remaining -= count
            if remaining < most:
                wait = max(wait, (start + width + span - now).total_seconds())
                break
    if wait > 0:
        return math.ceil(wait)
    for span, _ in limits:
        hit(conn, _series(key, span), now, span)
    return None


def _series(key: str, span: timedelta) -> str:
    return f"{key} {int(span.total_seconds())}"


def over_limits(conn: sa.Connection, key: str, limits: Limits, now: datetime) -> bool:
    """True if a limit refuses one more event for `key` (else it is counted)."""
    return retry_after(conn, key, limits, now) is not None
