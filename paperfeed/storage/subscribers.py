"""Digest subscribers, the papers each was sent, and their 👍/👎 votes."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from paperfeed.storage.dialect import insert_ignoring_conflicts
from paperfeed.storage.tables import digest_feedback, sent_papers, subscribers

PREFERENCE_COLUMNS = ("topics", "frequency", "send_hour", "time_zone", "paper_count")


def _row(row: sa.RowMapping) -> dict[str, Any]:
    found = dict(row)
    found["topics"] = json.loads(found["topics"] or "{}")
    return found


def get(conn: sa.Connection, subscriber_id: int) -> dict[str, Any] | None:
    query = sa.select(subscribers).where(subscribers.c.id == subscriber_id)
    row = conn.execute(query).mappings().first()
    return None if row is None else _row(row)


def get_by_email(conn: sa.Connection, email: str) -> dict[str, Any] | None:
    query = sa.select(subscribers).where(subscribers.c.email == email)
    row = conn.execute(query).mappings().first()
    return None if row is None else _row(row)


def create(
    conn: sa.Connection, email: str, status: str, preferences: dict[str, Any], now: datetime
) -> int:
    values = _preference_values(preferences) | {
        "email": email,
        "status": status,
        "link_key": secrets.token_hex(16),
        "created_at": now,
        "confirmed_at": now if status == "confirmed" else None,
    }
    subscriber_id: int = conn.execute(
        sa.insert(subscribers).values(values).returning(subscribers.c.id)
    ).scalar_one()
    return subscriber_id


def _preference_values(preferences: Mapping[str, Any]) -> dict[str, Any]:
    values = {k: preferences[k] for k in PREFERENCE_COLUMNS if k in preferences}
    if "topics" in values:
        values["topics"] = json.dumps(values["topics"], sort_keys=True)
    if "user_id" in preferences:
        values["user_id"] = preferences["user_id"]
    return values


def update(conn: sa.Connection, subscriber_id: int, **values: object) -> None:
    prefs = _preference_values(values)
    others = {k: v for k, v in values.items() if k not in PREFERENCE_COLUMNS and k != "user_id"}
    conn.execute(
        sa.update(subscribers).where(subscribers.c.id == subscriber_id).values(prefs | others)
    )


def listing(conn: sa.Connection, status: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(subscribers).order_by(subscribers.c.id)
    if status:
        query = query.where(subscribers.c.status == status)
    return [_row(r) for r in conn.execute(query).mappings()]


def deliverable(conn: sa.Connection) -> list[dict[str, Any]]:
    """Confirmed subscribers that are not suppressed: the only ones digests go to."""
    query = (
        sa.select(subscribers)
        .where(subscribers.c.status == "confirmed", subscribers.c.suppressed_at.is_(None))
        .order_by(subscribers.c.id)
    )
    return [_row(r) for r in conn.execute(query).mappings()]


def delete(conn: sa.Connection, email: str) -> bool:
    return conn.execute(sa.delete(subscribers).where(subscribers.c.email == email)).rowcount > 0


def suppress(conn: sa.Connection, email: str, reason: str, now: datetime) -> bool:
    """Stop all mail to an address (a hard bounce); True if it was a subscriber."""
    done = conn.execute(
        sa.update(subscribers)
        .where(subscribers.c.email == email, subscribers.c.suppressed_at.is_(None))
        .values(suppressed_at=now, suppressed_reason=reason[:500])
    )
    return done.rowcount > 0


def sent_paper_ids(conn: sa.Connection, subscriber_id: int) -> set[str]:
    query = sa.select(sent_papers.c.paper_id).where(sent_papers.c.subscriber_id == subscriber_id)
    return set(conn.execute(query).scalars())


def record_sent(
    conn: sa.Connection, subscriber_id: int, paper_ids: Iterable[str], day: date
) -> None:
    rows = [{"subscriber_id": subscriber_id, "paper_id": p, "edition_day": day} for p in paper_ids]
    if rows:
        conn.execute(insert_ignoring_conflicts(conn, sent_papers), rows)


def vote(conn: sa.Connection, subscriber_id: int, paper_id: str, value: int, at: datetime) -> None:
    conn.execute(
        sa.delete(digest_feedback).where(
            digest_feedback.c.subscriber_id == subscriber_id,
            digest_feedback.c.paper_id == paper_id,
        )
    )
    conn.execute(
        sa.insert(digest_feedback),
        {"subscriber_id": subscriber_id, "paper_id": paper_id, "vote": value, "voted_at": at},
    )


def votes(conn: sa.Connection, subscriber_id: int) -> dict[str, int]:
    query = (
        sa.select(digest_feedback.c.paper_id, digest_feedback.c.vote)
        .where(digest_feedback.c.subscriber_id == subscriber_id)
        .order_by(digest_feedback.c.voted_at.desc())
    )
    return dict(conn.execute(query).all())


def vote_list(conn: sa.Connection, subscriber_id: int) -> list[dict[str, Any]]:
    """Every vote, newest first: {paper_id, vote, voted_at}."""
    query = (
        sa.select(digest_feedback.c.paper_id, digest_feedback.c.vote, digest_feedback.c.voted_at)
        .where(digest_feedback.c.subscriber_id == subscriber_id)
        .order_by(digest_feedback.c.voted_at.desc(), digest_feedback.c.paper_id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def unvote(conn: sa.Connection, subscriber_id: int, paper_ids: Iterable[str] | None = None) -> int:
    """Take back the votes on `paper_ids` (all votes when None); how many were taken back."""
    query = sa.delete(digest_feedback).where(digest_feedback.c.subscriber_id == subscriber_id)
    if paper_ids is not None:
        query = query.where(digest_feedback.c.paper_id.in_(list(paper_ids)))
    return conn.execute(query).rowcount


def sent_history(conn: sa.Connection, subscriber_id: int, limit: int) -> list[tuple[str, date]]:
    """(paper id, edition day) of the papers sent to a subscriber, newest edition first."""
    query = (
        sa.select(sent_papers.c.paper_id, sent_papers.c.edition_day)
        .where(sent_papers.c.subscriber_id == subscriber_id)
        .order_by(sent_papers.c.edition_day.desc(), sent_papers.c.paper_id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in conn.execute(query)]
