"""Counting paper views for trending: one per visitor per paper per day, known bots ignored.

A visitor is a keyed hash of the client's address, user agent and the day: enough to count a
person once a day, never enough to recognise them (the key is random and per instance; the
address is not stored).
"""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import datetime

import sqlalchemy as sa

from paperfeed.storage import engagement
from paperfeed.storage.db import writing

# Crawlers, link previewers, feed fetchers and scripts announce themselves; people do not.
KNOWN_BOTS = re.compile(
    r"bot|crawl|spider|slurp|archiver|facebookexternalhit|preview|feedfetcher|fetch|monitor|"
    r"curl|wget|python|httpx|go-http-client|java/|libwww|headless|phantomjs|lighthouse",
    re.IGNORECASE,
)
_SECRET_NAME = "view-visitor-key"
_secrets: dict[str, str] = {}
_secrets_lock = threading.Lock()


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
    text = f"{address}\n{user_agent}\n{now.date().isoformat()}"
    return hashlib.blake2b(text.encode(), key=secret.encode()[:64], digest_size=16).hexdigest()


def count_view(
    engine: sa.Engine, paper_id: str, *, address: str, user_agent: str | None, now: datetime
) -> bool:
    """Record a person's view of a paper; True when it counted (first today, not a bot)."""
    if is_bot(user_agent):
        return False
    visitor = visitor_id(_secret(engine), address, user_agent or "", now)
    with writing(engine) as conn:
        return engagement.record_view(conn, paper_id, visitor, now)
