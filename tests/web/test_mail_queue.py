"""Mail asked for on a live server leaves after the answer (issue 17 §6), against a real SMTP
server on loopback: answers never wait on the mail server, whoever the address belongs to; a
mail server that hangs stalls nobody; one that is down costs no error page, leaks nothing, and
the mail arrives once it is back, once. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from paperfeed.digest import subscriptions
from paperfeed.storage import subscribers
from paperfeed.storage.db import writing
from tests.support.live import LiveServer, cli_env, csrf_of, run_cli
from tests.support.smtp import SmtpServer

HANG_S = 3.0
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def site(services, tmp_path):
    def start(mail_url: str) -> LiveServer:
        env = cli_env(tmp_path, services.settings.database_url) | {"PAPERFEED_MAIL_URL": mail_url}
        server = LiveServer(env).wait_ready()
        server.env = env
        started.append(server)
        return server

    started: list[LiveServer] = []
    yield start
    for server in started:
        server.stop()


def post_form(client: httpx.Client, path: str, **fields: str) -> httpx.Response:
    page = client.get(path)
    return client.post(path, data={"csrf_token": csrf_of(page.text), **fields})


def outbox_rows(services) -> list[tuple[str, str]]:
    with services.engine.connect() as conn:
        query = sa.text("SELECT kind, status FROM outbox ORDER BY id")
        return [tuple(row) for row in conn.execute(query)]


def wait_until(condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_answers_never_wait_for_the_mail_server_whoever_asks(services, site):
    preferences = subscriptions.preferences_from({})
    subscriptions.add(services.engine, "known@example.org", preferences, confirmed=True, now=NOW)
    subscriptions.add(services.engine, "gone@example.org", preferences, confirmed=True, now=NOW)
    with writing(services.engine) as conn:
        subscribers.suppress(conn, "gone@example.org", "bounced: 550 5.1.1", NOW)
    with SmtpServer() as smtp:
        # The first message meets a server that says nothing for 3 s, then 451: the queue
        # waits on it (and retries it) while every request goes on.
        smtp.hang_next_data(HANG_S)
        server = site(smtp.url)
        client = httpx.Client(base_url=server.url, timeout=30)
        answers = {}
        for address in ("new@example.org", "known@example.org", "gone@example.org"):
            started = time.monotonic()
            answer = post_form(client, "/subscribe", email=address)
            answers[address] = (time.monotonic() - started, answer)
        started = time.monotonic()
        signed = post_form(client, "/sign-in", email="reader@example.org", next="/library")
        answers["sign-in"] = (time.monotonic() - started, signed)
        # While the queue waits on the hanging server, the site answers everyone else.
        started = time.monotonic()
        assert client.get("/healthz").status_code == 200
        assert time.monotonic() - started < 1.0

        for what, (seconds, answer) in answers.items():
            assert answer.status_code == 200, what
            assert seconds < HANG_S / 2, f"{what} waited {seconds:.2f} s for the mail server"
        pages = {a: r.text.replace(a, "ADDRESS") for a, (_, r) in answers.items() if "@" in a}
        assert len(set(pages.values())) == 1  # the same page for a new, known or suppressed one
        # Every answer took the same path: one queued row each, the suppressed one empty.
        assert [kind for kind, _ in outbox_rows(services)] == [
            "confirm",
            "reminder",
            "nothing",
            "sign-in",
        ]
        wait_until(lambda: len(smtp.messages) == 3)
        wait_until(lambda: all(status != "pending" for _, status in outbox_rows(services)))
    sent_to = sorted(m.message["To"] for m in smtp.messages)
    assert sent_to == ["known@example.org", "new@example.org", "reader@example.org"]


def test_a_mail_server_that_is_down_loses_nothing_and_shows_nothing(services, site):
    smtp = SmtpServer()  # not started yet: connections to it are refused
    server = site(smtp.url)
    client = httpx.Client(base_url=server.url, timeout=30)
    answer = post_form(client, "/subscribe", email="ada@example.org")
    assert answer.status_code == 200
    assert "on its way" in answer.text
    assert str(smtp.port) not in answer.text  # the mail server's address stays private
    wait_until(lambda: outbox_rows(services) == [("confirm", "retry")])

    shown = run_cli("status", env=server.env)
    assert "queued mail: 1 waiting" in shown.stdout
    assert "could not be reached" in shown.stdout

    # The visitor tries again: the same answer, and no second confirmation is queued.
    again = post_form(client, "/subscribe", email="ada@example.org")
    assert again.status_code == 200 and "on its way" in again.text
    with smtp:
        # The next retry, with no new request: within the backoff (5 s, 10 s, 20 s, … from the
        # first failure) and the 5 s poll, however long the steps above took.
        wait_until(lambda: len(smtp.messages) == 1, timeout_s=90)
        time.sleep(1)
        assert len(smtp.messages) == 1
        [mail] = smtp.messages
    assert mail.message["To"] == "ada@example.org"
    link = re.search(r"http://\S+(/subscribe/confirm/\S+)", mail.message.get_body().get_content())
    assert "Confirm" in client.get(link.group(1)).text
