"""Mail a visitor asks for, queued inside the request and sent after it.

A request that should mail someone (a sign-in link, a subscription confirmation or reminder)
only writes a row in the outbox, in its own transaction; a path that mails nobody (a suppressed
address, one over its limit) writes a row with nothing in it. So every answer does the same
work and takes the same time, whoever the address belongs to, and no answer waits on the mail
server or fails because it is down. `deliver` sends what is due: the web app calls it after
each such response and every 30 s, the worker on each tick. A temporary failure is retried with
backoff until the message would be useless (a sign-in link lives 10 minutes); the row keeps the
last problem for `paperfeed status`.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr

import sqlalchemy as sa

from paperfeed.errors import TooManyRequests
from paperfeed.mail.failures import MailSetupFailure, PermanentMailFailure, TemporaryMailFailure
from paperfeed.mail.message import MailBackend, finish_headers
from paperfeed.mail.smtp import LONGEST_LINE
from paperfeed.storage import outbox as store
from paperfeed.storage import rate_limits
from paperfeed.storage.db import writing

log = logging.getLogger(__name__)

BATCH = 20
LEASE = timedelta(minutes=10)
FIRST_RETRY = timedelta(seconds=5)  # someone may be waiting at the screen for a sign-in link
LONGEST_WAIT = timedelta(minutes=30)
KEEP_FINISHED = timedelta(days=7)  # finished rows (without their message) stay for `status`
NOTHING = "nothing"  # the kind of a row written by a path that mails nobody


@dataclass(frozen=True)
class Mailer:
    """How a request's mail is written: who it is from, where its links point, and how much
    mail all visitors together may have sent to addresses in an hour."""

    sender: str  # "paperfeed <paperfeed@example.org>"
    public_url: str  # links in mail point here, never at a request's Host header
    hourly_limits: rate_limits.Limits = ()

    def link(self, path: str) -> str:
        return self.public_url.rstrip("/") + path

    def letter(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.sender
        message["To"] = to
        message.set_content(body)
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "localhost"
        return finish_headers(message, domain)


def refuse_floods(
    conn: sa.Connection,
    mailer: Mailer,
    client_series: str,
    client_limits: rate_limits.Limits,
    now: datetime,
    *,
    what: str,
) -> None:
    """TooManyRequests when this client, or all visitors together, asked for too much mail.
    `what` says which requests ("sign-in requests"); an allowed request is counted."""
    wait = rate_limits.retry_after(conn, client_series, client_limits, now)
    if wait:
        raise TooManyRequests.waiting(f"too many {what} from your network", wait)
    wait = rate_limits.retry_after(conn, rate_limits.MAIL_TO_ADDRESSES, mailer.hourly_limits, now)
    if wait:
        raise TooManyRequests.waiting(f"too many {what} right now", wait)


def queue(
    conn: sa.Connection,
    kind: str,
    message: EmailMessage | None,
    now: datetime,
    lifetime: timedelta,
) -> None:
    """Queue `message` in the caller's transaction; None queues a row with nothing to send."""
    raw = None
    if message is not None:
        raw = message.as_bytes(policy=message.policy.clone(max_line_length=LONGEST_LINE))
    store.add(conn, kind if message is not None else NOTHING, raw, now, now + lifetime)


@dataclass
class Drained:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0
    skipped: int = 0  # rows with nothing to send
    more: bool = False  # a full batch was taken: call again


def drainer_name() -> str:
    return f"{socket.gethostname()} {os.getpid()}"


def deliver(
    engine: sa.Engine,
    backend: MailBackend,
    clock: Callable[[], datetime],
    *,
    worker: str | None = None,
    limit: int = BATCH,
) -> Drained:
    """Send up to `limit` due messages. Safe to call from many processes at once: each row is
    claimed with a lease first. When the server cannot be reached, or refuses our setup, the
    rest of the batch waits for the next attempt instead of timing out one by one."""
    drained = Drained()
    now = clock()
    with engine.connect() as conn:
        if not store.any_due(conn, now):
            return drained
    with writing(engine, row_locks=True) as conn:
        drained.expired = store.expire(conn, now)
        store.forget_finished(conn, now - KEEP_FINISHED)
        taken = store.claim(conn, worker or drainer_name(), now, now + LEASE, limit)
    drained.more = len(taken) == limit
    for position, row in enumerate(taken):
        if row.message is None:
            _finish(engine, row, "skipped", clock)
            drained.skipped += 1
            continue
        try:
            backend.send(BytesParser(policy=policy.default).parsebytes(row.message))
        except PermanentMailFailure as exc:
            log.warning("queued mail refused kind=%s id=%s: %s", row.kind, row.id, exc)
            _finish(engine, row, "failed", clock, str(exc))
            drained.failed += 1
        except (TemporaryMailFailure, MailSetupFailure) as exc:
            server_down = isinstance(exc, MailSetupFailure) or exc.code is None
            waiting = taken[position:] if server_down else [row]
            log.warning("queued mail not sent, %d will be retried: %s", len(waiting), exc)
            _retry(engine, waiting, clock, str(exc))
            drained.retried += len(waiting)
            if server_down:
                drained.more = False
                break
        else:
            _finish(engine, row, "sent", clock)
            drained.sent += 1
    return drained


def _finish(
    engine: sa.Engine, row: store.Queued, status: str, clock: Callable[[], datetime], note: str = ""
) -> None:
    with writing(engine, row_locks=True) as conn:
        store.finish(conn, row.id, status, clock(), note)


def _retry(
    engine: sa.Engine, rows: list[store.Queued], clock: Callable[[], datetime], problem: str
) -> None:
    now = clock()
    with writing(engine, row_locks=True) as conn:
        for row in rows:
            wait = min(FIRST_RETRY * 2**row.attempts, LONGEST_WAIT)
            store.retry(conn, row.id, now + wait, problem)
