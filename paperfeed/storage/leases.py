"""Rows claimed under a lease (the delivery ledger, the outbox): which of them are due.

A row is due when it waits (`pending`), when its retry time has come (`retry`), or when the
lease of whoever claimed it ran out (`claimed`: that worker died or stalled).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa


def due(table: sa.Table, now: datetime) -> sa.ColumnElement[bool]:
    """The condition on `table` (with status, next_attempt_at, claim_expires_at) for due rows."""
    c = table.c
    return sa.or_(
        c.status == "pending",
        sa.and_(c.status == "retry", c.next_attempt_at <= now),
        sa.and_(c.status == "claimed", c.claim_expires_at <= now),
    )
