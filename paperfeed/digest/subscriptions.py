"""Subscribing to the digest: double opt-in, preferences by signed link, unsubscribe, abuse limits.

Every way in answers the same, whatever state the address is in (new, pending, confirmed,
unsubscribed, suppressed): a new or pending address gets a confirmation mail, a confirmed one a
mail with its preferences link, a suppressed one nothing. So the answer never tells a stranger
whether someone subscribes. The mail, or an empty row when none is due, goes to the outbox
(mail/outbox.py) and leaves after the answer, so the answer also takes the same time. Mail per
address and per client is limited in the database.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import available_timezones

import sqlalchemy as sa

from paperfeed.accounts.addresses import normalize_email
from paperfeed.accounts.tokens import hash_secret
from paperfeed.digest import links
from paperfeed.errors import InvalidInput, NotFound
from paperfeed.mail import outbox
from paperfeed.mail.outbox import Mailer
from paperfeed.storage import rate_limits
from paperfeed.storage import subscribers as store
from paperfeed.storage.db import writing

ADDRESS_LIMITS = ((timedelta(minutes=10), 1), (timedelta(days=1), 3))
CLIENT_LIMITS = ((timedelta(minutes=10), 10), (timedelta(days=1), 100))
FREQUENCIES = ("daily", "weekly")
MAX_TOPICS = 20
MAX_TOPIC_CHARS = 100
_CATEGORY = re.compile(r"^[A-Za-z][A-Za-z0-9.\-]{0,63}$")
_ZONES = frozenset(available_timezones())

# A subscriber's preferences as stored: `topics` is kept as JSON, so it reads back as a plain dict.
DEFAULTS: dict[str, Any] = {
    # `authors` are followed; `exclude*` are muted (keywords, authors, categories).
    "topics": {
        "categories": [],
        "keywords": [],
        "authors": [],
        "exclude": [],
        "exclude_authors": [],
        "exclude_categories": [],
        "library": False,
    },
    "frequency": "daily",
    "send_hour": 7,
    "time_zone": "UTC",
    "paper_count": 10,
}


TOPIC_LISTS = tuple(k for k, v in DEFAULTS["topics"].items() if isinstance(v, list))


def check_category(category: str) -> None:
    if not _CATEGORY.match(category):
        raise InvalidInput(f"{category[:40]!r} is not a category such as cs.CL or math.AG")


def preferences_from(form: dict) -> dict:
    """Checked preferences from a form or the CLI; unknown or missing fields take defaults.

    Each list (`categories`, `keywords`, `authors`, `exclude`, `exclude_authors`,
    `exclude_categories`) is a list or comma/newline-separated text.
    """
    lists = {name: terms(form.get(name)) for name in TOPIC_LISTS}
    for category in [*lists["categories"], *lists["exclude_categories"]]:
        check_category(category)
    library = str(form.get("library", "")).lower() in ("1", "true", "on", "yes")
    frequency = form.get("frequency") or DEFAULTS["frequency"]
    if frequency not in FREQUENCIES:
        raise InvalidInput("frequency must be daily or weekly")
    zone = (form.get("time_zone") or DEFAULTS["time_zone"]).strip()
    if zone not in _ZONES:
        raise InvalidInput(f"{zone[:60]!r} is not a time zone such as Europe/Paris or UTC")
    return {
        "topics": {**lists, "library": library},
        "frequency": frequency,
        "send_hour": _whole(form.get("send_hour"), "send hour", 0, 23, DEFAULTS["send_hour"]),
        "time_zone": zone,
        "paper_count": _whole(form.get("paper_count"), "number of papers", 1, 50, 10),
    }


_ARXIV_CATEGORY = re.compile(r"^[a-z]+(-[a-z]+)?\.[A-Za-z]+(-[A-Za-z]+)?$")
_DOTLESS_ARCHIVES = {
    "gr-qc",
    "hep-ex",
    "hep-lat",
    "hep-ph",
    "hep-th",
    "math-ph",
    "nucl-ex",
    "nucl-th",
    "quant-ph",
}


def split_topics(raw: str) -> dict[str, list[str]]:
    """`cs.CL, diffusion, quant-ph` → categories [cs.CL, quant-ph], keywords [diffusion]."""
    found: dict[str, list[str]] = {"categories": [], "keywords": []}
    for term in terms(raw):
        is_category = _ARXIV_CATEGORY.match(term) or term in _DOTLESS_ARCHIVES
        found["categories" if is_category else "keywords"].append(term)
    return found


def terms(raw: object) -> list[str]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list | tuple) else re.split(r"[,\n]", str(raw))
    terms = []
    for item in items:
        term = " ".join(str(item).split())
        if term and term not in terms:
            if len(term) > MAX_TOPIC_CHARS:
                raise InvalidInput(f"a topic has at most {MAX_TOPIC_CHARS} characters")
            terms.append(term)
    if len(terms) > MAX_TOPICS:
        raise InvalidInput(f"at most {MAX_TOPICS} topics of each kind")
    return terms


def _whole(raw: object, name: str, low: int, high: int, default: int) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}")
    return value


def subscribe(
    engine: sa.Engine,
    mailer: Mailer,
    raw_email: str | None,
    preferences: dict,
    *,
    client: str,
    now: datetime,
    user_id: int | None = None,
) -> None:
    """Ask for the digest. Raises InvalidInput for a bad address or preferences and
    TooManyRequests when this client asked too often; otherwise the outcome is silent."""
    email = normalize_email(raw_email)
    with writing(engine) as conn:
        client_series = "subscribe client " + hash_secret(client)
        outbox.refuse_floods(conn, mailer, client_series, CLIENT_LIMITS, now, what="subscriptions")
        kind, message = _mail_for(conn, mailer, email, preferences, now, user_id)
        outbox.queue(conn, kind, message, now, timedelta(seconds=links.CONFIRM_SECONDS))


def _mail_for(
    conn: sa.Connection,
    mailer: Mailer,
    email: str,
    preferences: dict,
    now: datetime,
    user_id: int | None,
) -> tuple[str, EmailMessage | None]:
    """Record the request and say which mail it earns: a confirmation, a reminder, or none."""
    found = store.get_by_email(conn, email)
    if found is not None and found["suppressed_at"] is not None:
        return outbox.NOTHING, None  # mail to it bounced: nothing more goes there
    if rate_limits.over_limits(
        conn, "subscribe address " + hash_secret(email), ADDRESS_LIMITS, now
    ):
        return outbox.NOTHING, None
    secret = links.link_secret(conn)
    prefs = preferences | ({"user_id": user_id} if user_id else {})
    if found is None:
        subscriber_id = store.create(conn, email, "pending", prefs, now)
        return "confirm", _confirmation(mailer, secret, _current(conn, subscriber_id), now)
    if found["status"] == "confirmed":
        # Never change a confirmed subscription on an unverified request: remind instead.
        return "reminder", _reminder(mailer, secret, found)
    store.update(conn, found["id"], status="pending", **prefs)
    return "confirm", _confirmation(mailer, secret, _current(conn, found["id"]), now)


def add(engine: sa.Engine, raw_email: str, preferences: dict, *, confirmed: bool, now: datetime):
    """The admin's way in (`paperfeed subscribers add`): no mail, optionally confirmed."""
    email = normalize_email(raw_email)
    status = "confirmed" if confirmed else "pending"
    with writing(engine) as conn:
        found = store.get_by_email(conn, email)
        if found is None:
            store.create(conn, email, status, preferences, now)
        else:
            extra = {"confirmed_at": now} if confirmed and found["status"] != "confirmed" else {}
            store.update(conn, found["id"], status=status, **preferences, **extra)
        return store.get_by_email(conn, email)


def remove(engine: sa.Engine, raw_email: str) -> None:
    email = normalize_email(raw_email)
    with writing(engine) as conn:
        if not store.delete(conn, email):
            raise NotFound(f"{email} is not a subscriber")


def confirm(engine: sa.Engine, token: str, now: datetime) -> dict:
    with writing(engine) as conn:
        subscriber, _ = links.verify(conn, token, ("confirm",), now)
        if subscriber["status"] != "confirmed":
            store.update(conn, subscriber["id"], status="confirmed", confirmed_at=now)
        return _current(conn, subscriber["id"])


def check_confirm_link(engine: sa.Engine, token: str, now: datetime) -> dict:
    """The subscriber a confirmation link is for, without confirming (the landing page)."""
    with writing(engine) as conn:
        return links.verify(conn, token, ("confirm",), now)[0]


def manage(engine: sa.Engine, token: str, now: datetime) -> dict:
    """The subscriber a manage link (preferences, unsubscribe) belongs to."""
    with writing(engine) as conn:
        return links.verify(conn, token, ("manage",), now)[0]


def update_preferences(engine: sa.Engine, token: str, preferences: dict, now: datetime) -> dict:
    with writing(engine) as conn:
        subscriber, _ = links.verify(conn, token, ("manage",), now)
        store.update(conn, subscriber["id"], **preferences)
        return _current(conn, subscriber["id"])


def unsubscribe(engine: sa.Engine, token: str, now: datetime) -> dict:
    """Idempotent: a second click (or a mail client's one-click POST) changes nothing more."""
    with writing(engine) as conn:
        subscriber, _ = links.verify(conn, token, ("manage",), now)
        if subscriber["status"] != "unsubscribed":
            store.update(conn, subscriber["id"], status="unsubscribed", unsubscribed_at=now)
        return _current(conn, subscriber["id"])


def resubscribe(engine: sa.Engine, token: str, now: datetime) -> dict:
    """Undo an unsubscribe from the same manage link (the address was already confirmed)."""
    with writing(engine) as conn:
        subscriber, _ = links.verify(conn, token, ("manage",), now)
        if subscriber["suppressed_at"] is None:
            store.update(conn, subscriber["id"], status="confirmed", unsubscribed_at=None)
        return _current(conn, subscriber["id"])


def record_vote(engine: sa.Engine, token: str, now: datetime) -> tuple[dict, str, int]:
    """A 👍 / 👎 link: (subscriber, paper id, +1 or -1)."""
    with writing(engine) as conn:
        subscriber, purpose = links.verify(conn, token, ("up:", "down:"), now)
        direction, _, paper_id = purpose.partition(":")
        value = 1 if direction == "up" else -1
        store.vote(conn, subscriber["id"], paper_id, value, now)
        return subscriber, paper_id, value


def manage_token(engine: sa.Engine, subscriber: dict) -> str:
    """The token of a subscriber's preferences link (shown right after confirming)."""
    with writing(engine) as conn:
        return links.sign(links.link_secret(conn), subscriber, "manage")


def feed_token(engine: sa.Engine, subscriber: dict) -> str:
    """The token of a subscriber's feed link (shown on the preferences page)."""
    with writing(engine) as conn:
        return links.sign(links.link_secret(conn), subscriber, "feed")


def check_vote_link(engine: sa.Engine, token: str, now: datetime) -> tuple[bool, str]:
    """(is 👍, paper id) of a vote link, without recording it (the landing page)."""
    with writing(engine) as conn:
        _, purpose = links.verify(conn, token, ("up:", "down:"), now)
    direction, _, paper_id = purpose.partition(":")
    return direction == "up", paper_id


def manage_url(public_url: str, secret: str, subscriber: dict) -> str:
    return f"{public_url.rstrip('/')}/subscription/{links.sign(secret, subscriber, 'manage')}"


def unsubscribe_url(public_url: str, secret: str, subscriber: dict) -> str:
    token = links.sign(secret, subscriber, "manage")
    return f"{public_url.rstrip('/')}/unsubscribe/{token}"


def vote_url(public_url: str, secret: str, subscriber: dict, paper_id: str, up: bool) -> str:
    token = links.sign(secret, subscriber, f"{'up' if up else 'down'}:{paper_id}")
    return f"{public_url.rstrip('/')}/digest/vote/{token}"


def _current(conn: sa.Connection, subscriber_id: int) -> dict[str, Any]:
    """The subscriber as stored now, read in the transaction that just found or wrote it."""
    subscriber = store.get(conn, subscriber_id)
    assert subscriber is not None  # the caller's transaction holds the row
    return subscriber


def _confirmation(mailer: Mailer, secret: str, subscriber: dict, now: datetime) -> EmailMessage:
    expires = now + timedelta(seconds=links.CONFIRM_SECONDS)
    token = links.sign(secret, subscriber, "confirm", expires_at=expires)
    return mailer.letter(
        subscriber["email"],
        "Confirm your paperfeed digest",
        "Someone, probably you, asked for paperfeed's trending papers by mail at this address.\n"
        "Open this link and press the button to start receiving them:\n\n"
        f"{mailer.link('/subscribe/confirm/' + token)}\n\n"
        "The link works for 72 hours. If you did not ask for this, ignore this mail: you will\n"
        "get nothing else from us.\n",
    )


def _reminder(mailer: Mailer, secret: str, subscriber: dict) -> EmailMessage:
    return mailer.letter(
        subscriber["email"],
        "Your paperfeed digest subscription",
        "Someone, probably you, asked to subscribe this address to paperfeed's digest.\n"
        "It is already subscribed. To change what you receive, or to stop it:\n\n"
        f"{manage_url(mailer.public_url, secret, subscriber)}\n",
    )
