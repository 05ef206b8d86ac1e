"""The web UI in a real browser: trending, search, a paper page, keyboard use, sign-in and the
library, and hostile paper text that must neither run nor trip the CSP.

The site is two `paperfeed serve` processes on one database behind a round-robin proxy, as a
scaled-out deployment runs: consecutive requests of one visitor reach different processes, so
sessions, CSRF tokens, sign-in links and marks must hold across them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support import mailbox
from tests.support.balancer import RoundRobinProxy
from tests.support.browser import Watch
from tests.support.live import LiveServer, loaded_home, write_lines

pytestmark = pytest.mark.slow  # a real browser: left out by `-m "not slow"`

playwright = pytest.importorskip("playwright.sync_api", reason="install the test extras")

INJECTION = "Automatic and Universal Prompt Injection Attacks against Large Language Models"
HOSTILE = {
    "arxiv_id": "2403.99999v1",
    "title": 'Attack <img src=x onerror="alert(1)"> on x" onmouseover="alert(5)" models',
    "authors": ["Mallory <script>alert(2)</script>"],
    "abstract": "We show <script>alert('xss')</script> and "
    '<a href="javascript:alert(3)">a link</a>; math $x^2$ \\href{javascript:alert(4)}{x}.',
    "categories": ["cs.CR"],
    "published_date": "2024-03-15 12:00:00 UTC",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory, test_data, module_database_url):
    home = tmp_path_factory.mktemp("home")
    hostile = write_lines(home / "hostile.jsonl", [HOSTILE])
    # Yesterday's Hugging Face day: upvotes make two papers trend.
    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    entries = [
        {"paper": {"id": "2403.04957", "title": INJECTION, "upvotes": 30}},
        {"paper": {"id": "2403.99999", "title": HOSTILE["title"], "upvotes": 12}},
    ]
    hf = write_lines(home / "hf.jsonl", [{"date": day, "response": entries}])
    papers = test_data / "search" / "papers.jsonl"
    env = loaded_home(home, module_database_url, papers, hostile, hf)
    servers = [LiveServer(env), LiveServer(env)]
    for server in servers:
        server.wait_ready()
    site = RoundRobinProxy([server.url for server in servers]).start()
    site.home = home
    yield site
    site.stop()
    for server in servers:
        output = server.stop()
        assert "Traceback" not in output, output
    assert min(site.served) > 10, site.served  # both processes served the suite


@pytest.fixture
def page(browser):
    context = browser.new_context()
    opened = context.new_page()
    watch = Watch()
    watch.attach(opened)
    opened.watch = watch
    yield opened
    context.close()


def test_trending_page_shows_why_papers_are_there(site, page):
    page.goto(site.url + "/")
    assert page.locator("h1").inner_text() == "Trending"
    cards = page.locator("ol.papers > li")
    assert cards.count() >= 2
    first = cards.nth(0)
    assert first.locator("h2 a").get_attribute("href") == "/papers/2403.04957"
    assert "+30 upvotes on Hugging Face" in first.locator(".why").inner_text()
    page.get_by_role("link", name="This week").click()
    assert page.locator('a[aria-current="page"]').inner_text() == "This week"
    assert "window=week" in page.url
    assert not page.watch.console_errors


def test_search_from_the_header_with_the_keyboard(site, page):
    page.goto(site.url + "/")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.get_by_label("Search papers").fill("prompt injection")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=prompt+injection")
    results = page.locator("ol.papers > li")
    assert results.count() >= 1
    assert page.locator("mark").count() >= 1
    # no vectors were made for this site: search says so and runs on keywords
    assert "semantic search is off" in page.locator(".notice").first.inner_text()
    results.first.locator("a").first.click()
    assert page.url.startswith(site.url + "/papers/")
    assert page.locator("article h1").count() == 1


def test_hostile_paper_text_neither_runs_nor_trips_the_policy(site, page):
    for path in ("/papers/2403.99999", "/", "/search?q=attack&mode=keyword", "/new"):
        page.goto(site.url + path)
        # the quotes-and-attribute payload survives ingest as text, and shows as text
        assert page.get_by_text('onmouseover="alert(5)"').count() >= 1, path
        page.get_by_text('onmouseover="alert(5)"').first.hover()
    assert page.watch.dialogs == []
    policy_errors = [e for e in page.watch.console_errors if "Content Security Policy" in e]
    assert policy_errors == []
    page.goto(site.url + "/papers/2403.99999")
    hrefs = page.eval_on_selector_all("a", "links => links.map(a => a.getAttribute('href'))")
    assert not [h for h in hrefs if h and h.lower().startswith("javascript:")]
    assert page.locator("img").count() == 0


def test_pages_work_on_a_phone_sized_screen(site, browser):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(site.url + "/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the page scrolls sideways on a phone"
    context.close()


def _sign_in_link(mail_dir, before: int) -> str:
    import re

    found = mailbox.wait_for(mail_dir, before + 1)
    assert len(found) == before + 1, "one sign-in mail was sent"
    body = found[-1].get_body(("plain",)).get_content()
    return re.search(r"(http://\S+/sign-in/confirm\?\S+)", body).group(1)


def test_sign_in_upvote_save_and_find_it_in_the_library(site, page):
    mail_dir = site.home / "mail"
    before = len(list(mail_dir.glob("*.eml"))) if mail_dir.exists() else 0
    page.goto(site.url + "/papers/2403.04957")
    upvote = page.get_by_role("button", name=f"Upvote: {INJECTION}")
    assert upvote.get_attribute("aria-pressed") == "false"
    upvote.click()  # signed out: off to sign in, and back here afterwards
    page.wait_for_url("**/sign-in?next=*")
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_role("button", name="Mail me a sign-in link").click()
    assert "a sign-in link is on its way" in page.locator("main").inner_text()

    page.goto(_sign_in_link(mail_dir, before))
    page.get_by_role("button", name="Sign in to paperfeed").click()
    page.wait_for_url("**/papers/2403.04957")
    assert page.get_by_role("link", name="Library").count() == 1

    page.get_by_role("button", name=f"Upvote: {INJECTION}").click()
    page.wait_for_url("**/papers/2403.04957")
    pressed = page.get_by_role("button", name=f"Remove upvote: {INJECTION}")
    assert pressed.get_attribute("aria-pressed") == "true"
    assert pressed.inner_text().strip() == "▲ 1"
    page.get_by_role("button", name=f"Save: {INJECTION}").click()
    assert page.get_by_role("button", name=f"Unsave: {INJECTION}").inner_text() == "Saved"

    page.get_by_role("link", name="Library").click()
    assert page.locator("h1").inner_text() == "Your library"
    assert page.get_by_role("link", name=INJECTION).count() == 1
    page.get_by_label("New collection").fill("Security reading")
    page.get_by_role("button", name="Create").click()
    page.get_by_label("Add to").select_option(label="Security reading")
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_role("link", name="Security reading").click()
    assert page.get_by_role("link", name=INJECTION).count() == 1
    with page.expect_download() as download:
        page.goto(site.url + "/library")
        page.get_by_role("link", name="Saved papers (BibTeX)").click()
    assert "eprint = {2403.04957}" in open(download.value.path()).read()
    assert page.watch.dialogs == []
    assert not page.watch.console_errors
