"""The outbox (issue 17 §6): mail a request asks for is queued, then sent by `deliver` against a
real SMTP server on loopback, with a clock the test moves. Temporary failures are retried with
backoff, a server that is down costs one attempt per drain, a refusal is final, a message past
its use is dropped, two drainers never send one message twice, and `status` flags mail stuck."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from paperfeed.accounts import signin
from paperfeed.digest import subscriptions
from paperfeed.mail import outbox
from paperfeed.mail.backends import backend_from_url
from paperfeed.status import problems, status
from paperfeed.storage import outbox as store
from paperfeed.storage import subscribers
from paperfeed.storage.db import writing
from tests.support.smtp import SmtpServer

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
MAILER = outbox.Mailer("paperfeed <pf@example.org>", "https://papers.example.org")


def ask_for_links(services, count: int, at: datetime = NOW) -> None:
    for i in range(count):
        signin.request_link(services.engine, MAILER, f"u{i}@example.org", client=f"c{i}", now=at)


def rows(services) -> list[dict]:
    with services.engine.connect() as conn:
        found = conn.execute(store.outbox.select().order_by(store.outbox.c.id)).mappings()
        return [dict(row) for row in found]


def test_queued_mail_leaves_once_and_forgets_its_link(services, smtp_server):
    ask_for_links(services, 3)
    assert smtp_server.messages == []  # asking sent nothing yet
    with backend_from_url(smtp_server.url) as backend:
        drained = outbox.deliver(services.engine, backend, lambda: NOW)
        assert (drained.sent, drained.retried) == (3, 0)
        assert outbox.deliver(services.engine, backend, lambda: NOW).sent == 0
    assert sorted(m.message["To"] for m in smtp_server.messages) == [
        "u0@example.org",
        "u1@example.org",
        "u2@example.org",
    ]
    assert "/sign-in/confirm?token=" in smtp_server.messages[0].message.get_body().get_content()
    assert {(r["status"], r["message"]) for r in rows(services)} == {("sent", None)}


def test_a_silent_path_queues_an_empty_row_that_sends_nothing(services, smtp_server):
    preferences = subscriptions.preferences_from({})
    subscriptions.add(services.engine, "gone@example.org", preferences, confirmed=True, now=NOW)
    with writing(services.engine) as conn:
        subscribers.suppress(conn, "gone@example.org", "bounced: 550", NOW)
    subscriptions.subscribe(
        services.engine, MAILER, "gone@example.org", preferences, client="c", now=NOW
    )
    subscriptions.subscribe(
        services.engine, MAILER, "new@example.org", preferences, client="c", now=NOW
    )
    # Both requests did the same thing: one row each.
    assert [r["kind"] for r in rows(services)] == ["nothing", "confirm"]
    with backend_from_url(smtp_server.url) as backend:
        drained = outbox.deliver(services.engine, backend, lambda: NOW)
    assert (drained.sent, drained.skipped) == (1, 1)
    assert [m.message["To"] for m in smtp_server.messages] == ["new@example.org"]


def test_a_temporary_refusal_is_retried_with_backoff_and_the_rest_go(services, smtp_server):
    ask_for_links(services, 3)
    smtp_server.fail_next_data(1, code=451)
    clock = [NOW]
    with backend_from_url(smtp_server.url) as backend:
        first = outbox.deliver(services.engine, backend, lambda: clock[0])
        assert (first.sent, first.retried) == (2, 1)
        [waiting] = [r for r in rows(services) if r["status"] == "retry"]
        assert waiting["next_attempt_at"] == NOW + outbox.FIRST_RETRY
        assert "451" in waiting["note"]
        assert outbox.deliver(services.engine, backend, lambda: clock[0]).sent == 0  # not yet
        clock[0] = NOW + outbox.FIRST_RETRY
        assert outbox.deliver(services.engine, backend, lambda: clock[0]).sent == 1
    assert len(smtp_server.messages) == 3


def test_a_server_that_is_down_costs_one_attempt_and_the_mail_goes_when_it_is_back(services):
    server = SmtpServer()  # not started: its port refuses connections
    ask_for_links(services, 5)
    backend = backend_from_url(server.url)
    started = time.monotonic()
    drained = outbox.deliver(services.engine, backend, lambda: NOW)
    assert time.monotonic() - started < 5
    assert (drained.sent, drained.retried) == (0, 5)
    assert {r["attempts"] for r in rows(services)} == {1}
    later = NOW + outbox.FIRST_RETRY
    report = status(services, later)
    assert report["outbox"]["open"] == 5
    assert "could not be reached" in report["outbox"]["last_problem"]
    with server:
        drained = outbox.deliver(services.engine, backend, lambda: later)
        backend.close()
    assert drained.sent == 5 and len(server.messages) == 5


def test_backoff_doubles_and_a_sign_in_link_is_dropped_once_useless(services):
    server = SmtpServer()  # never started
    ask_for_links(services, 1)
    backend = backend_from_url(server.url)
    clock, waits = NOW, []
    while True:
        outbox.deliver(services.engine, backend, lambda at=clock: at)
        [row] = rows(services)
        if row["status"] != "retry":
            break
        waits.append(row["next_attempt_at"] - clock)
        clock = row["next_attempt_at"]
    assert waits[:4] == [outbox.FIRST_RETRY * 2**n for n in range(4)]
    assert row["status"] == "expired" and row["message"] is None
    assert clock >= NOW + signin.LINK_LIFETIME  # it was tried for as long as the link lived


def test_a_permanent_refusal_is_final(services, smtp_server):
    ask_for_links(services, 1)
    smtp_server.fail_recipient("u0@example.org", 550)
    with backend_from_url(smtp_server.url) as backend:
        assert outbox.deliver(services.engine, backend, lambda: NOW).failed == 1
        assert outbox.deliver(services.engine, backend, lambda: NOW + timedelta(hours=1)).sent == 0
    [row] = rows(services)
    assert row["status"] == "failed" and "550" in row["note"] and row["message"] is None


def test_two_drainers_never_send_a_message_twice(services, smtp_server):
    ask_for_links(services, 40)
    backends = [backend_from_url(smtp_server.url) for _ in range(2)]

    def drain(backend, name: str) -> None:
        while outbox.deliver(services.engine, backend, lambda: NOW, worker=name, limit=3).more:
            pass

    threads = [
        threading.Thread(target=drain, args=(b, f"drainer {i}")) for i, b in enumerate(backends)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for backend in backends:
        backend.close()
    sent_to = [m.message["To"] for m in smtp_server.messages]
    assert sorted(sent_to) == sorted(f"u{i}@example.org" for i in range(40))


@pytest.mark.parametrize("minutes, stuck", [(14, False), (16, True)])
def test_status_check_flags_mail_waiting_too_long(services, minutes, stuck):
    ask_for_links(services, 1)
    found = problems(status(services, NOW + timedelta(minutes=minutes)))
    assert any("queued mail" in p for p in found) is stuck
