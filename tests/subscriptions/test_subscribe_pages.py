"""Subscribing from the page, confirming, preferences and unsubscribing, on a live server.

Mail goes to the file backend; the test follows the links in it as a subscriber would.
"""

from __future__ import annotations

import re

import httpx
import pytest

from paperfeed.storage import subscribers as store
from tests.support import mailbox
from tests.support.live import LiveServer, cli_env, csrf_of


@pytest.fixture
def site(services, tmp_path):
    server = LiveServer(cli_env(tmp_path, services.settings.database_url)).wait_ready()
    server.mail_dir = tmp_path / "mail"
    server.engine = services.engine
    yield server
    server.stop()


def mails(site) -> list:
    return mailbox.settled(site.engine, site.mail_dir)


def link_in(message, path: str) -> str:
    body = message.get_body(("plain",)).get_content()
    return re.search(r"http://\S+(" + re.escape(path) + r"\S+)", body).group(1)


def subscribe(client: httpx.Client, address: str, **fields) -> httpx.Response:
    page = client.get("/subscribe", params={"email": address})
    assert f'value="{address}"' in page.text  # the footer form carries the address over
    form = {"email": address, "csrf_token": csrf_of(page.text)} | fields
    return client.post("/subscribe", data=form)


def subscriber(site, address: str) -> dict | None:
    with site.engine.connect() as conn:
        return store.get_by_email(conn, address)


def test_double_opt_in_then_preferences_then_unsubscribe(site):
    client = httpx.Client(base_url=site.url, timeout=30)
    home = client.get("/")
    assert 'action="/subscribe"' in home.text  # every page offers the digest
    answer = subscribe(
        client,
        "ada@example.org",
        categories="cs.CL, cs.LG",
        keywords="diffusion",
        frequency="weekly",
        send_hour="8",
        time_zone="Europe/Paris",
        paper_count="12",
    )
    assert answer.status_code == 200
    assert "a message is on its way" in answer.text
    pending = subscriber(site, "ada@example.org")
    assert pending["status"] == "pending"
    assert pending["topics"]["categories"] == ["cs.CL", "cs.LG"]
    assert (pending["frequency"], pending["send_hour"], pending["time_zone"]) == (
        "weekly",
        8,
        "Europe/Paris",
    )
    [confirmation] = mails(site)
    assert confirmation["Subject"] == "Confirm your paperfeed digest"

    # The link only shows a button (a mail scanner opening it confirms nothing).
    landing = client.get(link_in(confirmation, "/subscribe/confirm/"))
    assert landing.status_code == 200 and "Yes, start my digest" in landing.text
    assert subscriber(site, "ada@example.org")["status"] == "pending"
    action = re.search(r'action="(/subscribe/confirm/[^"]+)"', landing.text).group(1)
    done = client.post(action, data={"csrf_token": csrf_of(landing.text)})
    assert done.status_code == 200
    assert subscriber(site, "ada@example.org")["status"] == "confirmed"

    # The preferences page, from the link a digest carries: no password.
    manage = re.search(r'action="(/subscription/[^"]+)"', done.text).group(1)
    other_browser = httpx.Client(base_url=site.url, timeout=30)
    page = other_browser.get(manage)
    assert page.status_code == 200 and 'value="diffusion"' in page.text
    saved = other_browser.post(
        manage,
        data={
            "csrf_token": csrf_of(page.text),
            "action": "save",
            "keywords": "protein folding",
            "frequency": "daily",
            "send_hour": "6",
            "time_zone": "UTC",
            "paper_count": "5",
        },
    )
    assert saved.status_code == 200 and "Saved." in saved.text
    changed = subscriber(site, "ada@example.org")
    assert changed["topics"]["keywords"] == ["protein folding"]
    assert (changed["frequency"], changed["paper_count"]) == ("daily", 5)

    # GET of the unsubscribe URL shows a button and unsubscribes nobody.
    unsubscribe_url = manage.replace("/subscription/", "/unsubscribe/")
    shown = httpx.get(site.url + unsubscribe_url, timeout=30)
    assert shown.status_code == 200 and "Stop sending digests" in shown.text
    assert subscriber(site, "ada@example.org")["status"] == "confirmed"
    # RFC 8058 one-click: a bare POST, no cookie, no CSRF token; twice is the same as once.
    for _ in range(2):
        one_click = httpx.post(
            site.url + unsubscribe_url,
            data={"List-Unsubscribe": "One-Click"},
            timeout=30,
        )
        assert one_click.status_code == 200
        assert "is unsubscribed" in one_click.text
    assert subscriber(site, "ada@example.org")["status"] == "unsubscribed"


def test_the_answer_is_the_same_whatever_the_address_state(site):
    client = httpx.Client(base_url=site.url, timeout=30)
    store_states = {}
    from paperfeed.digest import subscriptions

    def normalised(response: httpx.Response, address: str) -> str:
        return response.text.replace(address, "X")

    prefs = subscriptions.preferences_from({})
    subscriptions.add(site.engine, "confirmed@example.org", prefs, confirmed=True, now=_now())
    subscriptions.add(site.engine, "pending@example.org", prefs, confirmed=False, now=_now())
    gone = subscriptions.add(site.engine, "gone@example.org", prefs, confirmed=True, now=_now())
    with site.engine.begin() as conn:
        store.update(conn, gone["id"], status="unsubscribed")
    bounced = subscriptions.add(
        site.engine, "bounced@example.org", prefs, confirmed=True, now=_now()
    )
    with site.engine.begin() as conn:
        store.suppress(conn, bounced["email"], "test", _now())
    for address in (
        "new@example.org",
        "confirmed@example.org",
        "pending@example.org",
        "gone@example.org",
        "bounced@example.org",
    ):
        response = subscribe(client, address)
        store_states[address] = (response.status_code, normalised(response, address))
    assert len({v for v in store_states.values()}) == 1, store_states
    sent_to = sorted(m["To"] for m in mails(site))
    # new, pending and unsubscribed get a confirmation; confirmed gets its preferences link;
    # the bounced address gets nothing.
    assert sent_to == [
        "confirmed@example.org",
        "gone@example.org",
        "new@example.org",
        "pending@example.org",
    ]
    assert subscriber(site, "confirmed@example.org")["status"] == "confirmed"
    reminder = next(m for m in mails(site) if m["To"] == "confirmed@example.org")
    assert "/subscription/" in reminder.get_body(("plain",)).get_content()


def test_abuse_limits_per_address_and_per_client(site):
    client = httpx.Client(base_url=site.url, timeout=30)
    answers = [subscribe(client, "victim@example.org") for _ in range(3)]
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    assert len(mails(site)) == 1  # one confirmation per address per 10 minutes
    answers = [subscribe(client, f"u{i}@example.org") for i in range(9)]
    assert [a.status_code for a in answers] == [200] * 7 + [429] * 2  # 10 per client per 10 min
    # A refusal says when to come back: the first requests slide out of the 10 minutes.
    assert 540 <= int(answers[-1].headers["retry-after"]) <= 660
    assert re.search(r"try again in (9|10|11) minutes", answers[-1].text)


def test_bad_input_is_refused_clearly_and_sends_nothing(site):
    client = httpx.Client(base_url=site.url, timeout=30)
    cases = {
        "not-an-address": "email address",
        "ok@example.org|time_zone=Mars/Olympus": "time zone",
        "ok@example.org|categories=<script>": "category",
        "ok@example.org|paper_count=5000": "between 1 and 50",
        "ok@example.org|frequency=hourly": "daily or weekly",
    }
    for raw, expected in cases.items():
        address, _, field = raw.partition("|")
        extra = dict([field.split("=", 1)]) if field else {}
        response = subscribe(client, address, **extra)
        assert response.status_code == 400, raw
        assert expected in response.text, raw
        assert "<script>" not in response.text
    assert mails(site) == []
    forged = httpx.post(site.url + "/subscribe", data={"email": "x@example.org"}, timeout=30)
    assert forged.status_code == 403


def test_tampered_or_foreign_links_do_nothing(site):
    from paperfeed.digest import subscriptions

    prefs = subscriptions.preferences_from({})
    subscriptions.add(site.engine, "ada@example.org", prefs, confirmed=True, now=_now())
    for path in ("/unsubscribe/abc.def", "/subscription/eyJ4Ijox.AAAA", "/digest/vote/x"):
        response = httpx.post(site.url + path, timeout=30)
        assert response.status_code in (400, 403), path
    assert subscriber(site, "ada@example.org")["status"] == "confirmed"


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
