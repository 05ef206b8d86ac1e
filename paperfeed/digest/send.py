"""Sending an edition: every due subscriber gets exactly one digest, even across crashes.

Each (edition day, subscriber) is a row in the delivery ledger. A worker claims a few rows
(a lease), and for each: checks the subscriber still wants mail (an unsubscribe during a run
is honoured for every message not yet started), composes, renders, sends, and marks the row
sent in the same transaction that records the papers sent — only after the server's 250. A
worker killed between the 250 and that commit sends one duplicate on the rerun; nothing is
lost, because unfinished claims return to the pool when the lease ends (at once, when the
claimant was a process on this machine that no longer exists).

4xx answers are retried with exponential backoff (5 attempts); a 5xx is a bounce and
suppresses the address.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from paperfeed.digest import compose as composing
from paperfeed.digest import links
from paperfeed.digest.edition import Edition, prepare
from paperfeed.digest.render import digest_message
from paperfeed.mail.failures import MailSetupFailure, PermanentMailFailure, TemporaryMailFailure
from paperfeed.mail.message import MailBackend
from paperfeed.storage import deliveries as ledger
from paperfeed.storage import subscribers as store
from paperfeed.storage.db import writing

MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=2)
LEASE = timedelta(minutes=5)
CLAIM_BATCH = 20

log = logging.getLogger(__name__)


@dataclass
class SendSummary:
    day: str
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    bounced: int = 0
    retrying: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Sender:
    """What a run needs besides the database: where mail goes and how links look."""

    backend: MailBackend
    sender: str  # From
    public_url: str
    clock: Callable[[], datetime]
    model: str | None = None
    skip_quiet_days: bool = True
    half_life: timedelta | None = None
    worker: str = field(default_factory=lambda: worker_name())
    should_stop: Callable[[], bool] = lambda: False


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_due(subscriber: dict, day: date) -> bool:
    """Daily subscribers get every edition; weekly ones the edition of each Sunday (the week
    Monday to Sunday)."""
    return subscriber["frequency"] != "weekly" or day.weekday() == 6


def send_edition(
    engine: sa.Engine, sender: Sender, day: date, subscriber_ids: Iterable[int] | None = None
) -> SendSummary:
    """Send `day`'s edition to every due subscriber (or only to `subscriber_ids`), and any
    retries of it that are due; safe to run again, and side by side with other workers."""
    summary = SendSummary(day=day.isoformat())
    wanted = None if subscriber_ids is None else set(subscriber_ids)
    with engine.connect() as conn:
        due = [
            s
            for s in store.deliverable(conn)
            if is_due(s, day) and (wanted is None or s["id"] in wanted)
        ]
        new = ledger.not_in_ledger(conn, day, [s["id"] for s in due])
        secret = links.stored_link_secret(conn)
    # Workers run this every half minute; only subscribers new to the ledger need the
    # writers' lock (which ingest and view counting share), and usually there are none.
    if new or secret is None:
        with writing(engine) as conn:
            ledger.ensure(conn, day, new)
            secret = links.link_secret(conn)
    editions = _Editions()
    del due
    _release_dead_claims(engine, day)
    while True:
        now = sender.clock()
        with engine.connect() as conn:
            if not ledger.any_due(conn, day, now):
                break
        with writing(engine, row_locks=True) as conn:
            batch = ledger.claim(conn, day, sender.worker, now, now + LEASE, CLAIM_BATCH)
        if not batch:
            break
        for position, (subscriber_id, attempts) in enumerate(batch):
            if sender.should_stop():
                _hand_back(engine, day, [sid for sid, _ in batch[position:]])
                summary.notes.append("stopped before the end; the rest goes on the next run")
                return summary
            _deliver(engine, sender, day, subscriber_id, attempts, secret, editions, summary)
    with engine.connect() as conn:
        counts = ledger.counts(conn, day)
    summary.retrying = counts.get("retry", 0)
    if summary.retrying:
        when = None
        with engine.connect() as conn:
            when = ledger.next_retry_at(conn, day)
        summary.notes.append(f"{summary.retrying} to retry from {when:%H:%M} UTC")
    return summary


def _hand_back(engine: sa.Engine, day: date, subscriber_ids: list[int]) -> None:
    with writing(engine, row_locks=True) as conn:
        for subscriber_id in subscriber_ids:
            ledger.mark(conn, day, subscriber_id, "pending")


def _release_dead_claims(engine: sa.Engine, day: date) -> None:
    """Claims of processes on this machine that no longer run go back to the pool now."""
    host = socket.gethostname()
    with engine.connect() as conn:
        claimants = ledger.claimants(conn, day)
    dead = []
    for name in claimants:
        claim_host, _, rest = name.partition(":")
        pid = rest.partition(":")[0]
        if claim_host == host and pid.isdigit() and not _alive(int(pid)):
            dead.append(name)
    if dead:
        with writing(engine, row_locks=True) as conn:
            released = ledger.release_claims_of(conn, day, dead)
        log.info("released claims of dead workers count=%s", released)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _deliver(engine, sender, day, subscriber_id, attempts, secret, editions, summary) -> None:
    with engine.connect() as conn:
        subscriber = store.get(conn, subscriber_id)
    if (
        subscriber is None
        or subscriber["status"] != "confirmed"
        or subscriber["suppressed_at"] is not None
    ):
        with writing(engine, row_locks=True) as conn:
            ledger.mark(conn, day, subscriber_id, "skipped", note="no longer subscribed")
        summary.skipped += 1
        return
    try:
        edition = _edition(engine, sender, day, subscriber["frequency"], editions)
        if edition.quiet and sender.skip_quiet_days:
            with writing(engine, row_locks=True) as conn:
                ledger.mark(conn, day, subscriber_id, "skipped", note=edition.health[0])
            summary.skipped += 1
            return
        digest = composing.compose(
            engine, edition, subscriber, public_url=sender.public_url, secret=secret
        )
        if not composing.paper_ids(digest) and not digest["health"]:
            with writing(engine, row_locks=True) as conn:
                ledger.mark(conn, day, subscriber_id, "skipped", note="nothing to send")
            summary.skipped += 1
            return
        message = digest_message(digest, sender=sender.sender)
    except Exception as exc:
        log.exception("digest not composed subscriber_id=%s", subscriber_id)
        with writing(engine, row_locks=True) as conn:
            ledger.mark(conn, day, subscriber_id, "failed", note=f"compose: {exc}"[:500])
        summary.failed += 1
        return
    try:
        sender.backend.send(message)
    except MailSetupFailure:
        # Nobody's fault but the setup's: hand the row back and stop the run loudly.
        with writing(engine, row_locks=True) as conn:
            ledger.mark(conn, day, subscriber_id, "pending")
        raise
    except TemporaryMailFailure as exc:
        _retry_or_fail(engine, sender, day, subscriber_id, attempts, str(exc), summary)
        return
    except PermanentMailFailure as exc:
        now = sender.clock()
        with writing(engine, row_locks=True) as conn:
            ledger.mark(conn, day, subscriber_id, "bounced", note=str(exc), attempted=True)
            store.suppress(conn, subscriber["email"], f"bounced: {exc}", now)
        summary.bounced += 1
        return
    paper_ids = composing.paper_ids(digest)
    with writing(engine, row_locks=True) as conn:
        ledger.mark_sent(conn, day, subscriber_id, sender.clock(), message["Message-ID"], paper_ids)
        store.record_sent(conn, subscriber_id, paper_ids, day)
    summary.sent += 1


def _retry_or_fail(engine, sender, day, subscriber_id, attempts, problem, summary) -> None:
    attempts += 1
    with writing(engine, row_locks=True) as conn:
        if attempts >= MAX_ATTEMPTS:
            note = f"gave up after {attempts} attempts: {problem}"
            ledger.mark(conn, day, subscriber_id, "failed", note=note, attempted=True)
            summary.failed += 1
            return
        later = sender.clock() + FIRST_RETRY * 2 ** (attempts - 1)
        ledger.mark(
            conn, day, subscriber_id, "retry", note=problem, next_attempt_at=later, attempted=True
        )


@dataclass
class _Editions:
    """The editions of one run, prepared when first needed."""

    by_frequency: dict[str, Edition] = field(default_factory=dict)


def _edition(engine, sender, day, frequency, editions: _Editions) -> Edition:
    if frequency not in editions.by_frequency:
        edition = prepare(
            engine,
            day,
            frequency,
            now=sender.clock(),
            model=sender.model,
            half_life=sender.half_life,
        )
        editions.by_frequency[frequency] = edition
    return editions.by_frequency[frequency]


def preview(engine: sa.Engine, sender: Sender, email: str, day: date):
    """The digest message a subscriber would get for a day, without sending or recording it."""
    from paperfeed.accounts.addresses import normalize_email
    from paperfeed.errors import NotFound

    address = normalize_email(email)
    with writing(engine) as conn:
        subscriber = store.get_by_email(conn, address)
        secret = links.link_secret(conn)
    if subscriber is None:
        raise NotFound(f"{address} is not a subscriber")
    edition = _edition(engine, sender, day, subscriber["frequency"], _Editions())
    digest = composing.compose(
        engine, edition, subscriber, public_url=sender.public_url, secret=secret
    )
    return digest, digest_message(digest, sender=sender.sender)
