"""Counting paper views for trending: one per visitor per paper per day, known bots ignored.

A visitor is a keyed hash of the client's network, one of AGENTS_PER_ADDRESS slots its user
agent falls in, and the day: enough to count a person once a day, never enough to recognise
them (the key is random and per instance; the address is not stored). A client cannot mint
visitors by changing its User-Agent: one address (one IPv6 /64) counts at most
AGENTS_PER_ADDRESS views of a paper a day, whatever the agents (people behind one office NAT
share that). Views also weigh little and their points are capped (trending/score.py), and an
address that views papers faster than a person reads is logged as a burst.

Two ways in:
- `count_view` stores one view now and says whether it counted (tests, scripts);
- `count_view_soon` is what a paper page calls: no I/O, the view is queued and a background
  thread stores the queue every FLUSH_S seconds in one statement (a write transaction per
  page cost ~0.4 ms and a thread hop). `flush_views` stores the queue at once; trending calls
  it before it reads, so this process's own views are never missed. A crash loses at most
  FLUSH_S seconds of views; a normal exit stores them.
Both remember the (paper, visitor) pairs this process stored today, so a repeat view costs no
write, and take turns on a lock here rather than in SQLite's busy handler (which sleeps 1-100
ms between retries). Other processes' duplicates are refused by the table's primary key.
"""

from __future__ import annotations

import atexit
import hashlib
import ipaddress
import logging
import re
import threading
import time
from datetime import datetime

import sqlalchemy as sa

from paperfeed.errors import PaperfeedError
from paperfeed.storage import engagement
from paperfeed.storage.db import writing

log = logging.getLogger(__name__)

# Crawlers, link previewers, feed fetchers and scripts announce themselves; people do not.
KNOWN_BOTS = re.compile(
    r"bot|crawl|spider|slurp|archiver|facebookexternalhit|preview|feedfetcher|fetch|monitor|"
    r"curl|wget|python|httpx|go-http-client|java/|libwww|headless|phantomjs|lighthouse",
    re.IGNORECASE,
)
AGENTS_PER_ADDRESS = 3
BURST_VIEWS_PER_MINUTE = 60  # paper pages from one address in a minute: nobody reads that fast
FLUSH_S = 1.0
MAX_QUEUED = 100_000  # views waiting while the database cannot take them; more are dropped
# Per database: "paper_id visitor" of the views this process stored or found stored. Visitor
# ids change with the day, so yesterday's entries only take room: the set is emptied when full.
SEEN_MAX = 100_000
_SECRET_NAME = "view-visitor-key"
_secrets: dict[str, str] = {}
_secrets_lock = threading.Lock()
_seen: dict[str, set[str]] = {}
_write_lock = threading.Lock()


def is_bot(user_agent: str | None) -> bool:
    return not user_agent or bool(KNOWN_BOTS.search(user_agent))


def _secret(engine: sa.Engine) -> str:
    key = str(engine.url)
    with _secrets_lock:
        if key not in _secrets:
            with writing(engine) as conn:
                _secrets[key] = engagement.instance_secret(conn, _SECRET_NAME)
        return _secrets[key]


def visitor_id(secret: str, address: str, user_agent: str, now: datetime) -> str:
    slot = hashlib.blake2b(user_agent.encode(), digest_size=4).digest()[0] % AGENTS_PER_ADDRESS
    text = f"{network_of(address)}\n{slot}\n{now.date().isoformat()}"
    return hashlib.blake2b(text.encode(), key=secret.encode()[:64], digest_size=16).hexdigest()


def network_of(address: str) -> str:
    """The client's address, or its /64 for IPv6 (one subscriber line holds a whole /64)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


class _Bursts:
    """Paper views per address in the current minute; an address past the line is logged once
    an hour (by a hash, not the address)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._minute = -1
        self._counts: dict[str, int] = {}
        self._logged: dict[str, float] = {}

    def note(self, address: str, now: datetime) -> None:
        minute = int(now.timestamp()) // 60
        network = network_of(address)
        with self._lock:
            if minute != self._minute:
                self._minute, self._counts = minute, {}
            count = self._counts[network] = self._counts.get(network, 0) + 1
            if count <= BURST_VIEWS_PER_MINUTE:
                return
            last = self._logged.get(network, 0.0)
            if now.timestamp() - last < 3600:
                return
            if len(self._logged) > 10_000:
                self._logged.clear()
            self._logged[network] = now.timestamp()
        label = hashlib.blake2b(network.encode(), digest_size=6).hexdigest()
        log.warning(
            "view burst: more than %d paper views in a minute from one address (hash %s); "
            "it counts for at most %d views a paper a day",
            BURST_VIEWS_PER_MINUTE,
            label,
            AGENTS_PER_ADDRESS,
        )


_bursts = _Bursts()


def count_view(
    engine: sa.Engine, paper_id: str, *, address: str, user_agent: str | None, now: datetime
) -> bool:
    """Record a person's view of a paper; True when it counted (first today, not a bot)."""
    if is_bot(user_agent):
        return False
    visitor = visitor_id(_secret(engine), address, user_agent or "", now)
    return bool(_store(engine, [(paper_id, visitor, now)]))


def count_view_soon(
    engine: sa.Engine, paper_id: str, *, address: str, user_agent: str | None, now: datetime
) -> None:
    """Queue a person's view of a paper; stored within FLUSH_S seconds (never blocks)."""
    if not is_bot(user_agent):
        _bursts.note(address, now)
        _queue_of(engine).add((paper_id, address, user_agent or "", now))


def flush_views(engine: sa.Engine) -> int:
    """Store this process's queued views now; returns how many were written."""
    queue = _queues.get(str(engine.url))
    return queue.flush() if queue is not None else 0


def _store(engine: sa.Engine, views: list[tuple[str, str, datetime]]) -> int:
    """Store (paper_id, visitor, at) views in one transaction, repeats skipped.

    One view: returns 1 when it counted, else 0. Several (a flush): one bulk statement, which
    costs ~10 µs a view instead of ~170 µs, but cannot say which were repeats of another
    process's; returns how many were new to this process."""
    seen = _seen.setdefault(str(engine.url), set())
    fresh: dict[str, tuple[str, str, datetime]] = {}
    for paper_id, visitor, at in views:
        key = f"{paper_id} {visitor}"
        if key not in seen:
            fresh.setdefault(key, (paper_id, visitor, at))
    if not fresh:
        return 0
    with _write_lock:
        if len(fresh) == 1:
            with writing(engine) as conn:
                counted = int(engagement.record_view(conn, *next(iter(fresh.values()))))
        else:
            counted = _store_many(engine, list(fresh.values()))
        if len(seen) + len(fresh) > SEEN_MAX:
            seen.clear()
        seen.update(fresh)
    return counted


def _store_many(engine: sa.Engine, views: list[tuple[str, str, datetime]]) -> int:
    try:
        with writing(engine) as conn:
            engagement.record_views(conn, views)
        return len(views)
    except sa.exc.IntegrityError:
        # A paper removed since it was viewed fails the whole batch: store one by one.
        counted = 0
        for view in views:
            try:
                with writing(engine) as conn:
                    counted += engagement.record_view(conn, *view)
            except sa.exc.IntegrityError:
                log.info("view not counted paper_id=%s (removed)", view[0])
        return counted


class _Queue:
    """One database's queued views and the thread that stores them."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._views: list[tuple[str, str, str, datetime]] = []
        self._dropped = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, view: tuple[str, str, str, datetime]) -> None:
        with self._lock:
            if len(self._views) >= MAX_QUEUED:  # the database has refused writes for a while
                self._dropped += 1
                return
            self._views.append(view)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="views", daemon=True)
                self._thread.start()

    def flush(self) -> int:
        with self._lock:
            views, self._views = self._views, []
            dropped, self._dropped = self._dropped, 0
        if dropped:
            log.warning("views dropped count=%d (the queue was full)", dropped)
        if not views:
            return 0
        try:
            secret = _secret(self.engine)
            return _store(
                self.engine,
                [(pid, visitor_id(secret, a, ua, at), at) for pid, a, ua, at in views],
            )
        except (PaperfeedError, sa.exc.SQLAlchemyError) as exc:
            with self._lock:  # kept for the next flush, up to MAX_QUEUED
                self._views[:0] = views[: MAX_QUEUED - len(self._views)]
            log.warning("views not stored yet count=%d error=%s", len(views), exc)
            return 0

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_S)
            self.flush()


_queues: dict[str, _Queue] = {}
_queues_lock = threading.Lock()


def _queue_of(engine: sa.Engine) -> _Queue:
    key = str(engine.url)
    queue = _queues.get(key)
    if queue is None:
        with _queues_lock:
            queue = _queues.setdefault(key, _Queue(engine))
    return queue


@atexit.register
def _flush_all() -> None:
    for queue in list(_queues.values()):
        queue.flush()
