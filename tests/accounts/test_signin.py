"""Sign-in links and sessions at the domain level, where the clock can move: expiry, hashing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa

from paperfeed.accounts import signin
from paperfeed.errors import InvalidInput
from paperfeed.mail import outbox
from paperfeed.mail.backends import FileBackend

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
def mailer():
    return outbox.Mailer("paperfeed <pf@example.org>", "https://papers.example.org")


@pytest.fixture
def mailed(services, tmp_path):
    """The mail that left so far, once the outbox is drained (as of NOW by default)."""
    backend = FileBackend(tmp_path / "mail")

    def drain(now=NOW):
        outbox.deliver(services.engine, backend, lambda: now)
        return sorted(backend.folder.glob("*.eml")) if backend.folder.exists() else []

    return drain


def mailed_secret(mailed) -> str:
    [path] = mailed()[-1:]
    body = message_from_bytes(path.read_bytes(), policy=policy.default).get_body(("plain",))
    return re.search(r"token=([A-Za-z0-9_-]+)", body.get_content()).group(1)


def test_a_link_expires_after_ten_minutes(services, mailer, mailed):
    signin.request_link(services.engine, mailer, "ada@example.org", client="10.0.0.1", now=NOW)
    secret = mailed_secret(mailed)
    late = NOW + timedelta(minutes=10, seconds=1)
    assert signin.link_state(services.engine, secret, late) == "expired"
    with pytest.raises(InvalidInput, match="expired"):
        signin.confirm_link(services.engine, secret, late)
    assert signin.link_state(services.engine, secret, NOW + timedelta(minutes=9)) == "valid"


def test_secrets_are_stored_only_as_hashes_and_sessions_expire(services, mailer, mailed):
    signin.request_link(services.engine, mailer, "ada@example.org", client="10.0.0.1", now=NOW)
    secret = mailed_secret(mailed)
    session, user = signin.confirm_link(services.engine, secret, NOW + timedelta(minutes=1))
    assert user["email"] == "ada@example.org"
    with services.engine.connect() as conn:
        stored = [
            value
            # The outbox held the link until the mail left; it forgets it then.
            for table in ("sign_in_tokens", "sessions", "outbox")
            for row in conn.execute(sa.text(f"SELECT * FROM {table}"))
            for value in row
        ]
    assert not any(secret in str(value) or session in str(value) for value in stored)
    assert (
        signin.session_user(services.engine, session, NOW + timedelta(days=29))["id"]
        == (user["id"])
    )
    assert signin.session_user(services.engine, session, NOW + timedelta(days=31)) is None


def test_the_mail_links_to_the_configured_site_not_the_request(services, mailer, mailed):
    signin.request_link(services.engine, mailer, "ada@example.org", client="c", now=NOW)
    [path] = mailed()
    text = path.read_text()
    assert "https://papers.example.org/sign-in/confirm?token=" in text
    assert "From: paperfeed <pf@example.org>" in text


def test_address_limits_reset_with_the_window(services, mailer, mailed):
    for minute in range(5):
        signin.request_link(
            services.engine,
            mailer,
            "a@example.org",
            client="c",
            now=NOW + timedelta(minutes=minute),
        )
    assert len(mailed()) == 3
    signin.request_link(
        services.engine, mailer, "a@example.org", client="c", now=NOW + timedelta(minutes=11)
    )
    assert len(mailed(NOW + timedelta(minutes=11))) == 4
