"""Rate limits slide (issue 17 §5): no stretch of time, wherever it starts, lets more through
than the limit, a global hourly cap bounds the mail all clients together can trigger, and a
refusal says when to come back. Driven through the real sign-in and subscribe functions with
a clock the test moves, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from paperfeed.accounts import signin
from paperfeed.digest import subscriptions
from paperfeed.errors import TooManyRequests
from paperfeed.mail import outbox
from paperfeed.mail.backends import FileBackend

# A 10-minute boundary: a fixed window restarted its count here.
BOUNDARY = datetime(2026, 3, 1, 9, 10, tzinfo=UTC)
HOURLY = ((timedelta(hours=1), 20),)


@pytest.fixture
def backend(tmp_path):
    return FileBackend(tmp_path / "mail")


def sent(services, backend, now) -> int:
    """Mail that left, once the outbox is drained as of `now`."""
    outbox.deliver(services.engine, backend, lambda: now)
    return len(list(backend.folder.glob("*.eml"))) if backend.folder.exists() else 0


def test_sign_in_mail_slides_across_the_window_boundary(services, backend):
    mailer = outbox.Mailer("pf <pf@example.org>", "https://papers.example.org", HOURLY)
    for i in range(6):  # 6 requests in 2.4 s astride the boundary (the reported attack)
        at = BOUNDARY - timedelta(seconds=1.2) + timedelta(seconds=0.4 * i)
        signin.request_link(services.engine, mailer, "ada@example.org", client=f"c{i}", now=at)
    # The limit: 3 per address per 10 minutes, wherever they fall.
    assert sent(services, backend, BOUNDARY) == 3
    later = BOUNDARY - timedelta(seconds=1.2) + timedelta(minutes=11)
    signin.request_link(services.engine, mailer, "ada@example.org", client="c9", now=later)
    assert sent(services, backend, later) == 4  # once the first three have slid out, one more goes


def test_subscribe_confirmations_slide_and_a_global_cap_holds_across_clients(services, backend):
    mailer = outbox.Mailer("pf <pf@example.org>", "https://x.example", HOURLY)
    preferences = subscriptions.preferences_from({})
    for at in (BOUNDARY - timedelta(seconds=1), BOUNDARY + timedelta(seconds=1)):
        subscriptions.subscribe(
            services.engine, mailer, "ada@example.org", preferences, client="c", now=at
        )
    assert sent(services, backend, BOUNDARY) == 1  # one confirmation per address per 10 minutes

    refused = []
    for i in range(50):  # 50 addresses from 50 clients in one minute
        at = BOUNDARY + timedelta(seconds=i)
        try:
            subscriptions.subscribe(
                services.engine, mailer, f"u{i}@example.org", preferences, client=f"n{i}", now=at
            )
        except TooManyRequests as exc:
            refused.append(exc)
    # The hourly cap (20 here) counts requests that could mail, before the per-address limit
    # (so it answers the same for every address): ada's two, then 18 of the 50.
    assert sent(services, backend, BOUNDARY + timedelta(minutes=1)) == 1 + 18
    assert len(refused) == 50 - 18
    waits = {exc.retry_after for exc in refused}
    assert all(0 < wait <= 3600 + 360 for wait in waits)
    assert "try again in" in str(refused[0])


def test_a_refused_client_is_told_when_to_come_back(services, backend):
    mailer = outbox.Mailer("pf <pf@example.org>", "https://papers.example.org", HOURLY)
    for i in range(10):
        at = BOUNDARY + timedelta(seconds=i)
        signin.request_link(services.engine, mailer, f"u{i}@example.org", client="one", now=at)
    with pytest.raises(TooManyRequests) as refused:
        signin.request_link(
            services.engine,
            mailer,
            "z@example.org",
            client="one",
            now=BOUNDARY + timedelta(minutes=1),
        )
    wait = refused.value.retry_after
    assert 9 * 60 <= wait <= 10 * 60 + 60  # the first requests slide out after 10 minutes
    again = BOUNDARY + timedelta(minutes=1, seconds=wait)
    signin.request_link(services.engine, mailer, "z@example.org", client="one", now=again)
