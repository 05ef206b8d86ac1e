"""Signed links in digest mail: confirm, manage (preferences and unsubscribe), 👍 / 👎.

A link carries its subscriber, purpose and expiry in the clear and an HMAC over them, the
instance's secret and the subscriber's own `link_key`; nothing is stored per link. Changing a
subscriber's link_key revokes every link they were ever sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime

import sqlalchemy as sa

from paperfeed.errors import InvalidInput
from paperfeed.storage import engagement
from paperfeed.storage import subscribers as store
from paperfeed.storage.tables import is_row_id

CONFIRM_SECONDS = 72 * 3600
SECRET_NAME = "digest-links"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str, link_key: str) -> str:
    digest = hmac.new(secret.encode(), f"{payload}.{link_key}".encode(), hashlib.sha256)
    return _b64(digest.digest()[:18])


def link_secret(conn: sa.Connection) -> str:
    return engagement.instance_secret(conn, SECRET_NAME)


def stored_link_secret(conn: sa.Connection) -> str | None:
    return engagement.stored_secret(conn, SECRET_NAME)


def sign(secret: str, subscriber: dict, purpose: str, *, expires_at: datetime | None = None) -> str:
    """A token for one subscriber and purpose ("confirm", "manage", "up:<id>", "down:<id>")."""
    expires = int(expires_at.timestamp()) if expires_at else 0
    payload = _b64(json.dumps([subscriber["id"], purpose, expires], separators=(",", ":")).encode())
    return f"{payload}.{_mac(secret, payload, subscriber['link_key'])}"


def verify(conn: sa.Connection, token: str, purposes: tuple[str, ...], now: datetime) -> tuple:
    """(subscriber, purpose) for a genuine, unexpired token; InvalidInput otherwise."""
    problem = InvalidInput("this link is not valid; it may have been copied incompletely")
    payload, _, mac = (token or "").partition(".")
    if not payload or not mac or len(token) > 600:
        raise problem
    try:
        subscriber_id, purpose, expires = json.loads(_unb64(payload))
        expires = int(expires)
    except (ValueError, TypeError, OverflowError):  # 1e400 is a float that no int can hold
        raise problem from None
    if not isinstance(purpose, str) or not purpose.startswith(purposes):
        raise problem
    if not is_row_id(subscriber_id):  # 2**63 would make the database raise, not miss
        raise problem
    subscriber = store.get(conn, subscriber_id)
    if subscriber is None:
        raise InvalidInput("this subscription no longer exists")
    expected = _mac(link_secret(conn), payload, subscriber["link_key"])
    if not hmac.compare_digest(expected, mac):
        raise problem
    if expires and now.timestamp() > expires:
        raise InvalidInput("this link has expired; subscribe again to get a new one")
    return subscriber, purpose
