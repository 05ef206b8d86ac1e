"""LaTeX in paper titles and abstracts, typeset by the vendored KaTeX in a real browser against
a live `paperfeed serve`: it renders under the CSP, hostile LaTeX neither links nor hangs, and
without JavaScript the source text stays readable."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.support.browser import Watch
from tests.support.live import LiveServer, loaded_home, write_lines

pytestmark = pytest.mark.slow  # a real browser: left out by `-m "not slow"`

playwright = pytest.importorskip("playwright.sync_api", reason="install the test extras")

MATH = {
    "arxiv_id": "2406.01234v1",
    "title": "Sorting $k$-Sorted Arrays in $O(n \\log k)$ Time",
    "authors": ["Ada Lovelace", "Alan Turing"],
    "abstract": "We sort $n$ numbers of which each is at most $k$ places from its final "
    "position in $O(n \\log n)$ time in the worst case and $O(n \\log k)$ in expectation, "
    "and bound the total displacement by\n$$\\sum_{i=1}^n x_i \\le \\frac{n}{2}(k+1).$$\n"
    "The same holds for \\(\\epsilon\\)-approximate inputs with \\[ \\Pr[X > t] \\le e^{-t} \\]. "
    "A run costs from $5 to $10 on commodity clouds (or \\$3 spot).",
    "categories": ["cs.DS"],
    "published_date": "2024-06-03 12:00:00 UTC",
}
WIDE_BOMB = (  # well inside maxExpand, yet 800 copies of a 1,000-letter body
    "\\def\\c{" + "c" * 1000 + "}\\def\\d{" + "\\c" * 40 + "}\\def\\e{" + "\\d" * 20 + "}\\e"
)
DEEP = "\\sqrt{" * 200 + "x" + "}" * 200  # crashed the tab when laid out
HOSTILE = {
    "arxiv_id": "2406.09999v1",
    "title": "Macro bombs $\\def\\a{\\a\\a}\\a$ and links $\\href{javascript:alert(1)}{x}$",
    "authors": ["Mallory"],
    "abstract": "Links: $\\href{javascript:alert(1)}{click me}$ and $\\url{javascript:alert(2)}$ "
    "and \\(\\includegraphics{javascript:alert(3)}\\) and $\\htmlId{x}{y}$. "
    f"Bombs: $\\def\\a{{\\a\\a}}\\a$ and $\\newcommand{{\\b}}{{\\b\\b}}\\b$ and $${WIDE_BOMB}$$ "
    f"and ${DEEP}$ and a huge $\\rule{{100000em}}{{100000em}}$.",
    "categories": ["cs.CR"],
    "published_date": "2024-06-04 12:00:00 UTC",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory, module_database_url):
    home = tmp_path_factory.mktemp("home")
    papers = write_lines(home / "papers.jsonl", [MATH, HOSTILE])
    server = LiveServer(loaded_home(home, module_database_url, papers)).wait_ready()
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    opened = context.new_page()
    watch = Watch()
    watch.attach(opened)
    opened.watch = watch
    yield opened
    context.close()


def open_paper(page, url: str) -> None:
    page.goto(url)
    # math.js is deferred: it has run by the time the load event fires
    page.wait_for_load_state("load")


def test_inline_and_display_math_render_under_the_policy(site, page):
    open_paper(page, site.url + "/papers/2406.01234")
    abstract = page.locator("p.abstract")
    assert abstract.locator(".katex").count() >= 6
    assert abstract.locator(".katex-display").count() == 2  # $$…$$ and \[…\]
    assert page.locator("h1 .katex").count() == 2
    # KaTeX keeps each formula's source as MathML annotation, for copying and screen readers
    sources = page.eval_on_selector_all("p.abstract annotation", "a => a.map(x => x.textContent)")
    assert "O(n \\log n)" in sources
    assert any("\\sum_{i=1}^n x_i" in s for s in sources)
    # prices stay text; "\$" prints as "$"
    assert "costs from $5 to $10 on commodity clouds (or $3 spot)" in abstract.inner_text()
    # the math fonts came from this site, under font-src 'self'
    loaded = page.evaluate(
        "document.fonts.ready.then(fonts => [...fonts]"
        ".filter(f => f.status === 'loaded').map(f => f.family))"
    )
    assert "KaTeX_Main" in loaded and "KaTeX_Math" in loaded
    assert page.watch.console_errors == []
    assert page.watch.dialogs == []


def test_hostile_latex_neither_links_nor_runs_nor_hangs(site, page):
    started = time.monotonic()
    open_paper(page, site.url + "/papers/2406.09999")
    assert page.locator("p.abstract .katex").count() >= 5
    # the page still answers promptly after typesetting
    assert page.evaluate("1 + 1") == 2
    assert time.monotonic() - started < 10
    hrefs = page.eval_on_selector_all("a", "links => links.map(a => a.getAttribute('href'))")
    assert not [h for h in hrefs if h and "javascript" in h.lower()]
    assert page.locator("main img").count() == 0
    assert page.locator("#x").count() == 0  # \htmlId needs trust, which is off
    # macro definitions, and formulas too deep to lay out, stay as their source text
    text = page.locator("p.abstract").inner_text()
    for source in ("\\def\\a{\\a\\a}\\a", "\\newcommand{\\b}", WIDE_BOMB, DEEP):
        assert source in text
    assert "$\\def\\a{\\a\\a}\\a$" in page.locator("h1").inner_text()
    page.locator("p.abstract").hover()
    assert page.watch.dialogs == []
    assert page.watch.console_errors == []


def test_without_javascript_the_latex_source_stays_readable(site, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site.url + "/papers/2406.01234")
    assert page.locator(".katex").count() == 0
    text = page.locator("p.abstract").inner_text()
    assert "in $O(n \\log n)$ time" in text
    assert "$$\\sum_{i=1}^n x_i" in text
    assert page.locator("h1").inner_text() == MATH["title"]
    context.close()


def test_katex_and_every_font_its_stylesheet_names_are_served(site):
    with httpx.Client(base_url=site.url + "/static/katex/") as client:
        script = client.get("katex.min.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        css = client.get("katex.min.css")
        assert css.status_code == 200
        # each @font-face lists woff2 first, and only the woff2 files ship
        first_choices = re.findall(r"@font-face\{[^}]*?src:url\(([^)]+)\)", css.text)
        assert len(first_choices) == 20
        for font in first_choices:
            assert font.endswith(".woff2")
            assert client.get(font).status_code == 200, font
