"""A polite HTTP client for ingest sources: pacing, retries with backoff, Retry-After, limits.

Sources call `PoliteClient.get` and parse what comes back; this module decides when to wait and
when to give up, so no source re-implements it. Only 2xx and 4xx answers reach the caller
(arXiv reports a bad query as a 400 with an Atom body worth reading); 429, 5xx, timeouts and
dropped connections are retried and finally raised as SourceUnavailable.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from paperfeed import __version__
from paperfeed.errors import InvalidInput, SourceUnavailable

log = logging.getLogger(__name__)

USER_AGENT = f"paperfeed/{__version__} (self-hosted paper discovery)"


@dataclass(slots=True, frozen=True)
class HttpResponse:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class PoliteClient:
    """GET with pacing between requests and bounded retries.

    `min_interval_s` is the least time between two request starts (arXiv asks for 3 s).
    `sleep` and `clock` are injectable so tests can check the waits without waiting.
    """

    def __init__(
        self,
        *,
        min_interval_s: float = 3.0,
        timeout_s: float = 30.0,
        max_retries: int = 4,
        backoff_s: float = 2.0,
        max_wait_s: float = 600.0,
        max_body_bytes: int = 256 * 1024 * 1024,
        user_agent: str = USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_interval_s = min_interval_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self.max_body_bytes = max_body_bytes
        self._sleep = sleep
        self._clock = clock
        self._last_start: float | None = None
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            headers={"User-Agent": user_agent},
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, params: dict[str, str] | None = None) -> HttpResponse:
        """Fetch `url`, retrying transient failures; raise SourceUnavailable when out of tries."""
        problem = ""
        for attempt in range(self.max_retries + 1):
            self._wait_for_turn()
            try:
                response = self._fetch(url, params)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise InvalidInput(f"not a usable URL: {url!r} ({exc})") from None
            except httpx.TimeoutException:
                problem = "timed out"
                wait_s = self._backoff(attempt)
            except httpx.HTTPError as exc:
                problem = f"connection failed ({type(exc).__name__})"
                wait_s = self._backoff(attempt)
            else:
                if response.status < 400 or (response.status < 500 and response.status != 429):
                    return response
                problem = f"HTTP {response.status}"
                retry_after = _parse_retry_after(response.headers.get("retry-after"))
                wait_s = retry_after if retry_after is not None else self._backoff(attempt)
            if attempt == self.max_retries:
                break
            wait_s = min(wait_s, self.max_wait_s)
            log.warning("fetch failed url=%s problem=%r retry_in_s=%.1f", url, problem, wait_s)
            self._sleep(wait_s)
        raise SourceUnavailable(f"{_display(url)}: {problem} after {self.max_retries + 1} attempts")

    def _fetch(self, url: str, params: dict[str, str] | None) -> HttpResponse:
        with self._client.stream("GET", url, params=params) as response:
            chunks = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise SourceUnavailable(
                        f"{_display(url)}: response larger than {self.max_body_bytes} bytes"
                    )
                chunks.append(chunk)
            return HttpResponse(
                url=str(response.url),
                status=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=b"".join(chunks),
            )

    def _wait_for_turn(self) -> None:
        now = self._clock()
        if self._last_start is not None:
            due = self._last_start + self.min_interval_s
            if now < due:
                self._sleep(due - now)
                now = due
        self._last_start = now

    def _backoff(self, attempt: int) -> float:
        # Full jitter keeps several paperfeed instances from retrying in lockstep.
        return self.backoff_s * (2**attempt) * (0.5 + random.random() / 2)


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _display(url: str) -> str:
    return url.split("?", 1)[0]
