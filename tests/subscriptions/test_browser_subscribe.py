"""The digest's subscribe, confirm, preferences and unsubscribe flows in a real Chromium.

A live `paperfeed serve` sends mail to the file backend (<home>/mail); the browser opens the
links found in that mail, and the live server's database says what each click changed. The
full journey runs on SQLite and PostgreSQL; the other flows only on SQLite, since each run
starts a server and the database code under them is covered on both by the httpx tests in
test_subscribe_pages.py.
"""

from __future__ import annotations

import email
import re
from datetime import UTC, date, datetime
from email import policy

import httpx
import pytest

from paperfeed.digest import subscriptions
from paperfeed.storage import subscribers as store
from tests.subscriptions.conftest import DAY, TOPICS
from tests.support import mailbox
from tests.support.browser import Watch
from tests.support.live import LiveServer, cli_env, run_cli

pytestmark = pytest.mark.slow  # a real browser: left out by `-m "not slow"`

playwright = pytest.importorskip("playwright.sync_api", reason="install the test extras")
expect = playwright.expect

ADDRESS = "ada@example.org"
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def site(services, tmp_path):
    env = cli_env(tmp_path, services.settings.database_url)
    server = LiveServer(env).wait_ready()
    # `paperfeed digest preview` runs beside the server and must write the server's links.
    server.env = env | {"PAPERFEED_PUBLIC_URL": server.url}
    server.home = tmp_path
    server.engine = services.engine
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    opened = context.new_page()
    opened.watch = Watch()
    opened.watch.attach(opened)
    yield opened
    context.close()
    # No page of these flows may log an error or trip the Content-Security-Policy.
    assert opened.watch.console_errors == []
    assert opened.watch.dialogs == []


def subscriber(site, address: str = ADDRESS) -> dict | None:
    with site.engine.connect() as conn:
        return store.get_by_email(conn, address)


def mails(site) -> list:
    return mailbox.settled(site.engine, site.home / "mail")


def link_in(message, path: str) -> str:
    body = message.get_body(("plain",)).get_content()
    return re.search(r"(http://\S+" + re.escape(path) + r"\S+)", body).group(1)


def digest_mail(site, address: str = ADDRESS, day: date | None = None):
    """The digest mail `address` would get, written by `paperfeed digest preview`."""
    out = site.home / "digest.eml"
    on_day = ["--date", day.isoformat()] if day else []
    made = run_cli("digest", "preview", address, *on_day, "--out", str(out), env=site.env)
    assert made.returncode == 0, made.stderr
    return email.message_from_bytes(out.read_bytes(), policy=policy.default)


def add_confirmed(site, address: str = ADDRESS, **form) -> dict:
    preferences = subscriptions.preferences_from(form)
    return subscriptions.add(
        site.engine, address, preferences, confirmed=True, now=datetime.now(UTC)
    )


def labels_of_fields(page, form_selector: str) -> dict[str, str]:
    """name → the text of its <label>s, for every visible field of a form."""
    return page.eval_on_selector_all(
        f"{form_selector} input:not([type=hidden]), {form_selector} select",
        """fields => Object.fromEntries(fields.map(f => [
            f.name, Array.from(f.labels).map(l => l.textContent.trim()).join(' ')]))""",
    )


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_subscribe_from_the_footer_and_only_the_button_confirms(site, page):
    page.goto(site.url + "/")
    footer = page.locator("footer")
    footer.get_by_label("Trending papers in your inbox, once a day").fill(ADDRESS)
    footer.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/subscribe?email=ada%40example.org")
    assert page.get_by_label("Email address").input_value() == ADDRESS
    # Signed out, there is no "like my library" choice to make.
    assert page.get_by_label("Papers like those in my library").count() == 0

    page.get_by_label("Categories").fill("cs.CL")
    page.get_by_label("Keywords or phrases").fill("diffusion")
    page.get_by_label("How often").select_option("weekly")
    page.get_by_label("Hour").select_option("8")
    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_label("Papers per digest").fill("12")
    page.locator("main").get_by_role("button", name="Subscribe").click()
    expect(page.locator("h1")).to_have_text("Check your mail")
    expect(page.get_by_role("status")).to_contain_text(
        f"If {ADDRESS} can receive mail, a message is on its way."
    )

    pending = subscriber(site)
    assert pending["status"] == "pending"
    assert pending["topics"]["categories"] == ["cs.CL"]
    assert pending["topics"]["keywords"] == ["diffusion"]
    assert (pending["frequency"], pending["send_hour"], pending["time_zone"]) == (
        "weekly",
        8,
        "Europe/Paris",
    )
    assert pending["paper_count"] == 12

    [confirmation] = mails(site)
    assert confirmation["To"] == ADDRESS
    assert confirmation["Subject"] == "Confirm your paperfeed digest"
    link = link_in(confirmation, "/subscribe/confirm/")
    assert link.startswith(site.url + "/")
    # Opening the link (as a mail scanner would, twice) shows a button and confirms nothing.
    for _ in range(2):
        page.goto(link)
        expect(page.locator("h1")).to_have_text("Confirm your digest")
        expect(page.locator("main")).to_contain_text(ADDRESS)
        assert subscriber(site)["status"] == "pending"
    page.get_by_role("button", name="Yes, start my digest").click()
    expect(page.locator("h1")).to_have_text("Your digest")
    expect(page.locator("main")).to_contain_text(f"For {ADDRESS} · subscribed")
    confirmed = subscriber(site)
    assert confirmed["status"] == "confirmed" and confirmed["confirmed_at"] is not None
    # Straight after confirming, the page is the preferences form, showing what was chosen.
    assert page.get_by_label("Keywords or phrases").input_value() == "diffusion"
    assert page.get_by_label("Time zone").input_value() == "Europe/Paris"
    assert len(mails(site)) == 1  # confirming sends nothing more


@sqlite_only
def test_preferences_from_the_digest_link_are_saved_and_shown_again(site, page):
    add_confirmed(site, keywords="diffusion", frequency="weekly", time_zone="Europe/Paris")
    preferences_url = link_in(digest_mail(site), "/subscription/")
    assert preferences_url.startswith(site.url + "/")

    page.goto(preferences_url)  # a fresh browser: no cookie, no password
    expect(page.locator("main")).to_contain_text(f"For {ADDRESS} · subscribed")
    assert page.get_by_label("Keywords or phrases").input_value() == "diffusion"
    assert page.get_by_label("How often").input_value() == "weekly"
    page.get_by_label("Categories").fill("cs.LG, stat.ML")
    page.get_by_label("Keywords or phrases").fill("protein folding")
    page.get_by_label("Leave out papers mentioning").fill("survey")
    page.get_by_label("How often").select_option("daily")
    page.get_by_label("Hour").select_option("6")
    page.get_by_label("Time zone").select_option("America/New_York")
    page.get_by_label("Papers per digest").fill("5")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Saved. The next digest follows these preferences."
    )

    saved = subscriber(site)
    assert saved["topics"]["categories"] == ["cs.LG", "stat.ML"]
    assert saved["topics"]["keywords"] == ["protein folding"]
    assert saved["topics"]["exclude"] == ["survey"]
    assert (saved["frequency"], saved["send_hour"], saved["time_zone"]) == (
        "daily",
        6,
        "America/New_York",
    )
    assert (saved["paper_count"], saved["status"]) == (5, "confirmed")

    page.goto(preferences_url)  # opened again later, the form shows what was saved
    shown = {
        label: page.get_by_label(label).input_value()
        for label in (
            "Categories",
            "Keywords or phrases",
            "Leave out papers mentioning",
            "How often",
            "Hour",
            "Time zone",
            "Papers per digest",
        )
    }
    assert shown == {
        "Categories": "cs.LG, stat.ML",
        "Keywords or phrases": "protein folding",
        "Leave out papers mentioning": "survey",
        "How often": "daily",
        "Hour": "6",
        "Time zone": "America/New_York",
        "Papers per digest": "5",
    }

    # A bad value is refused with a message, keeps what was typed and changes nothing.
    page.get_by_label("Categories").fill("cs.LG, not a category!")
    page.get_by_label("Papers per digest").fill("9")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("alert")).to_contain_text("is not a category")
    assert page.get_by_label("Categories").input_value() == "cs.LG, not a category!"
    assert subscriber(site)["paper_count"] == 5
    # Chromium logs the 400 answer itself; that one, expected, is the only error.
    assert page.watch.console_errors == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    page.watch.console_errors.clear()


@sqlite_only
def test_unsubscribe_link_shows_a_button_and_only_the_click_unsubscribes(site, page):
    add_confirmed(site)
    mail = digest_mail(site)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = re.fullmatch(r"<(\S+)>", mail["List-Unsubscribe"]).group(1)
    assert unsubscribe_url == link_in(mail, "/unsubscribe/")
    assert unsubscribe_url.startswith(site.url + "/unsubscribe/")

    page.goto(unsubscribe_url)
    expect(page.locator("h1")).to_have_text("Unsubscribe")
    expect(page.locator("main")).to_contain_text(f"Stop sending digests to {ADDRESS}?")
    assert subscriber(site)["status"] == "confirmed"  # opening the link changes nothing
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("status")).to_contain_text(f"{ADDRESS} is unsubscribed")
    gone = subscriber(site)
    assert gone["status"] == "unsubscribed" and gone["unsubscribed_at"] is not None

    # A mail client's RFC 8058 one-click POST afterwards (no cookie, no CSRF token) is a no-op.
    again = httpx.post(unsubscribe_url, data={"List-Unsubscribe": "One-Click"}, timeout=30)
    assert again.status_code == 200 and "is unsubscribed" in again.text
    assert subscriber(site)["unsubscribed_at"] == gone["unsubscribed_at"]

    # Changed their mind: the page links back to preferences, which can subscribe again.
    page.get_by_role("link", name="Changed your mind?").click()
    expect(page.locator("main")).to_contain_text(f"For {ADDRESS} · unsubscribed")
    page.get_by_role("button", name="Subscribe again").click()
    expect(page.get_by_role("status")).to_contain_text("Welcome back")
    assert subscriber(site)["status"] == "confirmed"


@sqlite_only
def test_subscribe_and_confirm_with_the_keyboard_alone(site, page):
    page.goto(site.url + "/subscribe")
    # Every field, in the order Tab reaches them.
    order = [
        "email",
        "categories",
        "keywords",
        "authors",
        "exclude",
        "exclude_authors",
        "exclude_categories",
        "frequency",
        "send_hour",
        "time_zone",
        "paper_count",
    ]
    labels = labels_of_fields(page, "main form")
    assert set(labels) == set(order)
    assert all(labels.values()), f"fields without a label: {labels}"

    page.get_by_label("Email address").focus()
    page.keyboard.type(ADDRESS)
    typed = {"categories": "cs.LG", "frequency": "w", "send_hour": "09", "time_zone": "Asia/Tokyo"}
    for name in order[1:]:
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name") == name
        if name in typed:
            page.keyboard.type(typed[name])  # on a <select>, typing picks the option
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("7")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Check your mail")
    pending = subscriber(site)
    assert pending["topics"]["categories"] == ["cs.LG"]
    assert (pending["frequency"], pending["send_hour"], pending["time_zone"]) == (
        "weekly",
        9,
        "Asia/Tokyo",
    )
    assert (pending["paper_count"], pending["status"]) == (7, "pending")

    # The confirm button has the focus when the link opens: Enter confirms.
    page.goto(link_in(mails(site)[-1], "/subscribe/confirm/"))
    assert page.evaluate("document.activeElement.textContent") == "Yes, start my digest"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Your digest")
    assert subscriber(site)["status"] == "confirmed"
    preference_labels = labels_of_fields(page, "main form.stacked")
    assert all(preference_labels.values()), f"fields without a label: {preference_labels}"


@sqlite_only
def test_votes_are_seen_undone_and_reset_and_follows_and_mutes_change_the_digest(
    site, page, day_of_papers
):
    add_confirmed(site, keywords="speech", paper_count="6")
    body = digest_mail(site, day=DAY).get_body(("plain",)).get_content()
    more = re.findall(r"👍 More like this: (http://\S+)", body)
    less = re.findall(r"👎 Less like this: (http://\S+)", body)
    for link, button in ((more[0], "👍 More like this"), (less[1], "👎 Less like this")):
        page.goto(link)
        page.get_by_role("button", name=button).click()
        expect(page.get_by_role("status")).to_contain_text("Thanks: your next digests")
    with site.engine.connect() as conn:
        voted = store.votes(conn, subscriber(site)["id"])
    assert sorted(voted.values()) == [-1, 1]
    titles = {pid: title for pid, title, *_ in TOPICS}
    liked = next(titles[pid] for pid, v in voted.items() if v > 0)
    disliked = next(titles[pid] for pid, v in voted.items() if v < 0)

    page.get_by_role("link", name="See or undo your votes").click()  # from the last vote
    votes = page.get_by_role("region", name="Your votes")
    expect(votes.get_by_role("listitem")).to_have_count(2)
    expect(votes).to_contain_text(f"👍 liked {liked}")
    expect(votes).to_contain_text(f"👎 disliked {disliked}")
    votes.get_by_role("button", name=f"Undo your vote on {disliked}").click()
    expect(page.get_by_role("status")).to_contain_text("Vote taken back")
    expect(votes.get_by_role("listitem")).to_have_count(1)
    with site.engine.connect() as conn:
        assert list(store.votes(conn, subscriber(site)["id"]).values()) == [1]

    page.get_by_label("Follow authors").fill("Grace Hopper")
    page.get_by_label("Leave out papers by").fill("Edsger Dijkstra")
    page.get_by_label("Leave out papers filed under").fill("q-bio")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    topics = subscriber(site)["topics"]
    assert topics["authors"] == ["Grace Hopper"]
    assert (topics["exclude_authors"], topics["exclude_categories"]) == (
        ["Edsger Dijkstra"],
        ["q-bio"],
    )
    assert page.get_by_label("Leave out papers filed under").input_value() == "q-bio"
    page.get_by_role("button", name="Forget all my votes").click()
    expect(page.get_by_role("status")).to_contain_text("All your votes are forgotten")
    expect(votes).to_contain_text("No votes yet")
    with site.engine.connect() as conn:
        assert store.votes(conn, subscriber(site)["id"]) == {}

    after = digest_mail(site, day=DAY).get_body(("plain",)).get_content()
    assert "New from Grace Hopper, whom you follow" in after
    assert "Sparse attention" not in after and "Diffusion models for protein" not in after
