"""Users, sign-in links and sessions. Secrets arrive here already hashed (accounts.tokens)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from paperfeed.storage.dialect import insert_ignoring_conflicts
from paperfeed.storage.tables import sessions, sign_in_tokens, users


def user_id_for(conn: sa.Connection, email: str, now: datetime) -> int:
    """The id of the account with this address, made now if there is none."""
    conn.execute(insert_ignoring_conflicts(conn, users), {"email": email, "created_at": now})
    user_id: int = conn.execute(sa.select(users.c.id).where(users.c.email == email)).scalar_one()
    return user_id


def get_user(conn: sa.Connection, user_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
    return dict(row) if row else None


def store_sign_in_token(
    conn: sa.Connection, token_hash: str, email: str, now: datetime, expires_at: datetime
) -> None:
    conn.execute(
        sa.insert(sign_in_tokens),
        {"token_hash": token_hash, "email": email, "created_at": now, "expires_at": expires_at},
    )


def use_sign_in_token(conn: sa.Connection, token_hash: str, now: datetime) -> str | None:
    """Mark an unused, unexpired link used and return its address; None if it cannot be used.

    One UPDATE does both, so two clicks racing on one link sign in at most once.
    """
    used = conn.execute(
        sa.update(sign_in_tokens)
        .where(
            sign_in_tokens.c.token_hash == token_hash,
            sign_in_tokens.c.used_at.is_(None),
            sign_in_tokens.c.expires_at > now,
        )
        .values(used_at=now)
        .returning(sign_in_tokens.c.email)
    ).first()
    return used[0] if used else None


def sign_in_token_state(conn: sa.Connection, token_hash: str, now: datetime) -> str:
    """'valid', 'used', 'expired' or 'unknown': what the landing page tells the person."""
    row = conn.execute(
        sa.select(sign_in_tokens.c.used_at, sign_in_tokens.c.expires_at).where(
            sign_in_tokens.c.token_hash == token_hash
        )
    ).first()
    if row is None:
        return "unknown"
    if row.used_at is not None:
        return "used"
    return "expired" if row.expires_at <= now else "valid"


def start_session(
    conn: sa.Connection, token_hash: str, user_id: int, now: datetime, expires_at: datetime
) -> None:
    conn.execute(
        sa.insert(sessions),
        {"token_hash": token_hash, "user_id": user_id, "created_at": now, "expires_at": expires_at},
    )


def session_user(conn: sa.Connection, token_hash: str, now: datetime) -> dict[str, Any] | None:
    row = (
        conn.execute(
            sa.select(users.c.id, users.c.email)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.token_hash == token_hash, sessions.c.expires_at > now)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def end_session(conn: sa.Connection, token_hash: str) -> None:
    conn.execute(sa.delete(sessions).where(sessions.c.token_hash == token_hash))


def forget_expired(conn: sa.Connection, now: datetime) -> None:
    """Drop expired links and sessions; cheap enough to run on every sign-in."""
    conn.execute(sa.delete(sign_in_tokens).where(sign_in_tokens.c.expires_at <= now))
    conn.execute(sa.delete(sessions).where(sessions.c.expires_at <= now))
