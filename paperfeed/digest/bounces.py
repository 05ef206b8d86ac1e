"""Feeding bounce reports back: a hard bounce in an RFC 3464 report suppresses the address."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from paperfeed.mail.bounces import read_delivery_report
from paperfeed.storage import subscribers as store
from paperfeed.storage.db import writing


def apply_bounce_report(engine: sa.Engine, raw: bytes, now: datetime) -> dict:
    """Suppress every hard-bounced recipient the report names; soft bounces are only listed.
    Raises InvalidInput when the bytes are not a delivery status report."""
    report = read_delivery_report(raw)
    suppressed, soft = [], []
    with writing(engine) as conn:
        for bounce in report.bounces:
            address = bounce.recipient.strip().lower()
            if not bounce.is_hard:
                soft.append(address)
                continue
            reason = f"bounce report {bounce.status}: {bounce.text}"[:500]
            if store.suppress(conn, address, reason, now):
                suppressed.append(address)
    return {"suppressed": suppressed, "soft": soft, "message_id": report.original_message_id}
