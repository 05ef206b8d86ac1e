"""Read the mail a live server sent to its file backend (`<home>/mail/*.eml`), oldest first.

The server queues mail a request asks for and sends it just after answering (mail/outbox.py),
so a test reads the mailbox once the outbox holds nothing waiting to be sent: then a missing
mail is really missing, not late.
"""

from __future__ import annotations

import email
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path

import sqlalchemy as sa

SETTLE_S = 15.0


def read(folder: Path) -> list[EmailMessage]:
    if not folder.exists():
        return []
    found = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in found]


def settled(engine: sa.Engine, folder: Path, timeout_s: float = SETTLE_S) -> list[EmailMessage]:
    """The mail in `folder` once no queued mail is pending or being sent (retries that wait for
    a later attempt do not count): AssertionError if that takes longer than `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    query = sa.text("SELECT count(*) FROM outbox WHERE status IN ('pending', 'claimed')")
    while True:
        with engine.connect() as conn:
            waiting = conn.execute(query).scalar()
        if not waiting:
            return read(folder)
        assert time.monotonic() < deadline, f"{waiting} queued mail(s) still unsent"
        time.sleep(0.02)


def wait_for(folder: Path, count: int, timeout_s: float = SETTLE_S) -> list[EmailMessage]:
    """The mail in `folder` once it holds `count` messages (for a test without the database)."""
    deadline = time.monotonic() + timeout_s
    while len(found := read(folder)) < count:
        assert time.monotonic() < deadline, f"{len(found)} mail(s), not {count}"
        time.sleep(0.02)
    return found
