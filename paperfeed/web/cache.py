"""Short-lived in-process caches of the data pages read on every request.

Only data is cached (the trending dict, category counts, a paper's dict, its similar papers),
never a rendered page and never anything about the visitor: each request still adds the
person's own state (their upvotes and saves, the CSRF token) when it renders. Callers get a
shallow copy of a cached dict (and of the dicts in its lists), so a handler that sets a key on
a paper does not change what the next visitor sees; nested values are shared and read-only.

`TtlCache.get(key, compute)`, from a handler:
- a value younger than `ttl_s` is returned at once, without the thread pool;
- an older one, up to `ttl_s + stale_s`, is returned at once too, while one background thread
  computes its replacement, so no request waits for a recomputation; under steady traffic a
  value is therefore at most about `ttl_s` (plus one computation) old;
- a missing or older value is computed in the thread pool; concurrent requests for the same
  key wait for that one computation instead of repeating it. Errors are never cached.
At most `max_entries` keys are kept, the least recently used dropped first.

Each app gets its own caches (`app_cache`), made on first use; nothing is shared between apps
or processes: a change made anywhere shows once the value is recomputed, about `ttl_s` later.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

log = logging.getLogger(__name__)

_MISSING = object()


class TtlCache:
    def __init__(
        self,
        ttl_s: float,
        *,
        stale_s: float | None = None,
        max_entries: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.stale_s = ttl_s if stale_s is None else stale_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._busy: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    async def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        value = self.lookup(key, compute)
        if value is _MISSING:
            value = await run_in_threadpool(self.fill, key, compute)
        return _copy(value)

    def get_here(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """As `get`, but a miss is computed in the calling thread (for code that is not async
        and whose computation is CPU work, not I/O)."""
        value = self.lookup(key, compute)
        if value is _MISSING:
            value = self.fill(key, compute)
        return _copy(value)

    def lookup(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached value, refreshed in the background when stale; _MISSING when too old."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return _MISSING
            age = self._clock() - entry[0]
            if age > self.ttl_s + self.stale_s:
                return _MISSING
            self._entries.move_to_end(key)
            if age > self.ttl_s and key not in self._busy:
                self._busy[key] = threading.Event()
                threading.Thread(
                    target=self._refresh, args=(key, compute), name="cache-refresh", daemon=True
                ).start()
            return entry[1]

    def fill(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Compute and store the value (blocking): one computation per key at a time."""
        while True:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and self._clock() - entry[0] <= self.ttl_s:
                    return entry[1]  # another thread just computed it
                busy = self._busy.get(key)
                if busy is None:
                    self._busy[key] = threading.Event()
                    break
            busy.wait()
        try:
            return self._store(key, compute)
        finally:
            self._done(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _refresh(self, key: Hashable, compute: Callable[[], Any]) -> None:
        try:
            self._store(key, compute)
        except Exception:
            log.exception("cache refresh failed key=%r", key)
        finally:
            self._done(key)

    def _store(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        started = self._clock()
        value = compute()
        with self._lock:
            # Dated when the computation started: what it read is at least that old.
            self._entries[key] = (started, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def _done(self, key: Hashable) -> None:
        with self._lock:
            self._busy.pop(key).set()


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) if isinstance(v, list) else v for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_item(i) for i in value]
    return value


def _copy_item(item: Any) -> Any:
    return dict(item) if isinstance(item, dict) else item


def app_cache(request: Request, name: str, ttl_s: float, **options: Any) -> TtlCache:
    """This app's cache called `name`, made on first use (handlers run on one event loop, so
    two requests cannot both make it)."""
    state = request.app.state
    caches = getattr(state, "caches", None)
    if caches is None:
        caches = state.caches = {}
    cache = caches.get(name)
    if cache is None:
        cache = caches[name] = TtlCache(ttl_s, **options)
    return cache
