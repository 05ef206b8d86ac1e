"""Signing in with an email link: ask for a link, open it, get a session.

The link is single use, valid 10 minutes and stored hashed; the session cookie likewise. Asking
for a link answers the same whether or not the address has an account (accounts are made on
first sign-in): the mail, or an empty row when none is due, goes to the outbox (mail/outbox.py)
and leaves after the answer. Mail per address and per client is rate limited in the database so
the limits hold across processes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlencode

import sqlalchemy as sa

from paperfeed.accounts.addresses import normalize_email
from paperfeed.accounts.tokens import hash_secret, new_secret
from paperfeed.errors import InvalidInput
from paperfeed.mail import outbox
from paperfeed.mail.outbox import Mailer
from paperfeed.storage import accounts as store
from paperfeed.storage import rate_limits
from paperfeed.storage.db import writing

LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(days=30)
# (span, most mails in it). Per address: stops anyone flooding one inbox. Per client: stops
# one client mailing many addresses; it is looser because a lab may share one address.
ADDRESS_LIMITS = ((timedelta(minutes=10), 3), (timedelta(days=1), 10))
CLIENT_LIMITS = ((timedelta(minutes=10), 10), (timedelta(days=1), 100))

LINK_PROBLEMS = {
    "used": "This sign-in link was already used. Ask for a new one below.",
    "expired": "This sign-in link has expired (links last 10 minutes). Ask for a new one below.",
    "unknown": "This sign-in link is not valid. Ask for a new one below.",
}


def request_link(
    engine: sa.Engine,
    mailer: Mailer,
    raw_email: str | None,
    *,
    client: str,
    now: datetime,
    next_path: str = "/library",
) -> None:
    """Queue a sign-in link, unless a limit says not to. Raises InvalidInput for a bad address
    and TooManyRequests when this client asked too often; an address that asked too often
    gets the same silence as any other, so the answer reveals nothing about it."""
    email = normalize_email(raw_email)
    with writing(engine) as conn:
        client_series = "sign-in client " + hash_secret(client)
        outbox.refuse_floods(
            conn, mailer, client_series, CLIENT_LIMITS, now, what="sign-in requests"
        )
        message = None
        if not rate_limits.over_limits(
            conn, "sign-in address " + hash_secret(email), ADDRESS_LIMITS, now
        ):
            store.forget_expired(conn, now)
            secret, digest = new_secret()
            store.store_sign_in_token(conn, digest, email, now, now + LINK_LIFETIME)
            message = sign_in_message(mailer, email, secret, next_path)
        outbox.queue(conn, "sign-in", message, now, LINK_LIFETIME)


def sign_in_message(mailer: Mailer, email: str, secret: str, next_path: str) -> EmailMessage:
    link = mailer.link("/sign-in/confirm?" + urlencode({"token": secret, "next": next_path}))
    return mailer.letter(
        email,
        "Your paperfeed sign-in link",
        "Open this link to sign in to paperfeed:\n\n"
        f"{link}\n\n"
        "It works once, within 10 minutes. If you did not ask to sign in, ignore this mail:\n"
        "nothing happens until the link is opened.\n",
    )


def link_state(engine: sa.Engine, secret: str, now: datetime) -> str:
    with engine.connect() as conn:
        return store.sign_in_token_state(conn, hash_secret(secret), now)


def confirm_link(engine: sa.Engine, secret: str, now: datetime) -> tuple[str, dict]:
    """Use a sign-in link: (session secret for the cookie, the user). InvalidInput if the link
    is used, expired or unknown."""
    digest = hash_secret(secret)
    with writing(engine) as conn:
        email = store.use_sign_in_token(conn, digest, now)
        if email is None:
            state = store.sign_in_token_state(conn, digest, now)
            raise InvalidInput(LINK_PROBLEMS.get(state, LINK_PROBLEMS["unknown"]))
        user_id = store.user_id_for(conn, email, now)
        session_secret, session_digest = new_secret()
        store.start_session(conn, session_digest, user_id, now, now + SESSION_LIFETIME)
    return session_secret, {"id": user_id, "email": email}


def session_user(engine: sa.Engine, session_secret: str, now: datetime) -> dict | None:
    with engine.connect() as conn:
        return store.session_user(conn, hash_secret(session_secret), now)


def sign_out(engine: sa.Engine, session_secret: str) -> None:
    with writing(engine) as conn:
        store.end_session(conn, hash_secret(session_secret))
