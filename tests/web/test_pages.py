"""The web server as a user meets it: a live `paperfeed serve` process over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from paperfeed.ingest.run import ingest
from paperfeed.models import Batch, Paper, Signal, Version
from tests.support.live import LiveServer, cli_env
from tests.support.sources import OneBatch

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def live(services, tmp_path):
    papers = [
        Paper(
            id="2401.00001",
            title="Older paper",
            abstract="Old.",
            authors=["A. Author"],
            published_at=T0,
            source="arxiv-oai",
            version=1,
            versions=[Version(1, T0)],
            categories=["cs.CL"],
            abs_url="https://arxiv.org/abs/2401.00001",
        ),
        Paper(
            id="2402.00002",
            title="Newer <b>bold</b> paper",
            source="arxiv-oai",
            abstract="<script>alert('x')</script> Hostile & fine.",
            authors=["B. Writer"],
            published_at=datetime(2026, 3, 5, tzinfo=UTC),
            code_url="javascript:alert(1)",
        ),
        Paper(
            id="hep-th/9901001",
            title="An old-style id",
            published_at=datetime(1999, 1, 1, tzinfo=UTC),
            source="arxiv-oai",
        ),
    ]
    signals = [Signal("2402.00002", "hf", "upvotes", 42, T0)]
    ingest(OneBatch(Batch(papers=papers, signals=signals)), services.engine)
    server = LiveServer(cli_env(tmp_path, services.settings.database_url)).wait_ready()
    yield server
    server.stop()


def test_new_lists_newest_papers_first_with_links_to_paper_pages(live):
    page = httpx.get(live.url + "/new")
    assert page.status_code == 200
    html = page.text
    assert html.index("Newer") < html.index("Older paper") < html.index("An old-style id")
    assert 'href="/papers/2401.00001"' in html
    assert "42 upvotes" in html
    twin = httpx.get(live.url + "/new.json").json()
    assert [p["id"] for p in twin["papers"]] == ["2402.00002", "2401.00001", "hep-th/9901001"]
    in_cl = httpx.get(live.url + "/new.json", params={"category": "cs.CL"}).json()
    assert [p["id"] for p in in_cl["papers"]] == ["2401.00001"]


def test_home_shows_trending_with_why_and_a_note_when_engagement_is_old(live):
    page = httpx.get(live.url + "/")
    assert page.status_code == 200
    assert "Trending" in page.text
    # The only engagement (42 upvotes on 2026-03-01) is older than a day: shown as of then.
    assert "the newest engagement on record" in page.text
    assert "+42 upvotes on Hugging Face in 24 h" in page.text
    twin = httpx.get(live.url + "/trending.json").json()
    assert twin == httpx.get(live.url + "/api/trending").json()
    assert [p["id"] for p in twin["papers"]] == ["2402.00002"]
    assert twin["papers"][0]["trending"]["parts"][0]["gained"] == 42


def test_category_pages_list_categories_and_their_trending(live):
    listed = httpx.get(live.url + "/api/categories").json()
    assert listed == {"categories": [{"category": "cs.CL", "papers": 1}]}
    assert 'href="/categories/cs.CL"' in httpx.get(live.url + "/categories").text
    page = httpx.get(live.url + "/categories/cs.CL")
    assert page.status_code == 200 and "Trending in cs.CL" in page.text
    twin = httpx.get(live.url + "/categories/cs.CL.json").json()
    assert twin["category"] == "cs.CL" and twin["basis"] == "newest"
    assert [p["id"] for p in twin["papers"]] == ["2401.00001"]


def test_every_page_carries_a_strict_content_security_policy(live):
    for path in ("/", "/new", "/papers/2401.00001", "/search?q=paper", "/api/trending"):
        policy = httpx.get(live.url + path).headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy, path
    css = httpx.get(live.url + "/static/paperfeed.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert "<style" not in httpx.get(live.url + "/").text


def test_static_files_are_versioned_by_content_and_cached_for_good(live, tmp_path):
    import re

    from paperfeed.web.static import content_version

    page = httpx.get(live.url + "/papers/2401.00001").text
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert any(link.endswith("/katex/katex.min.css") for link in links)
    for link in links:
        version = link.split("/")[2]
        assert re.fullmatch(r"[0-9a-f]{12}", version), link
        answer = httpx.get(live.url + link)
        assert answer.status_code == 200, link
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    # KaTeX's fonts, linked relatively from its stylesheet, are under the same version.
    font = httpx.get(f"{live.url}/static/{version}/katex/fonts/KaTeX_Main-Regular.woff2")
    assert font.status_code == 200
    # Unversioned paths still answer, without the promise.
    plain = httpx.get(live.url + "/static/paperfeed.css")
    assert plain.status_code == 200 and "immutable" not in plain.headers.get("cache-control", "")
    # Any change to any file is a new version.
    (tmp_path / "a.css").write_text("body{}")
    before = content_version(tmp_path)
    (tmp_path / "a.css").write_text("body{color:red}")
    assert content_version(tmp_path) != before


def test_trending_refuses_bad_parameters_in_the_one_error_shape(live):
    bad = httpx.get(live.url + "/api/trending", params={"window": "year"})
    assert bad.status_code == 400
    assert bad.json() == {
        "ok": False,
        "error": "window must be one of day, week, month",
        "status": 400,
    }
    future = httpx.get(live.url + "/api/trending", params={"date": "2999-01-01"})
    assert future.status_code == 400 and "has not happened yet" in future.json()["error"]
    hostile = httpx.get(live.url + "/", params={"category": "<script>"})
    assert hostile.status_code == 400 and "<script>" not in hostile.text


def test_paper_page_shows_the_paper_with_hostile_text_escaped(live):
    page = httpx.get(live.url + "/papers/2402.00002")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;" in page.text
    assert "javascript:" not in page.text  # unsafe link schemes are never rendered as links
    assert httpx.get(live.url + "/papers/hep-th/9901001").status_code == 200


def test_paper_json_twin_and_api_carry_the_same_fields(live):
    twin = httpx.get(live.url + "/papers/2401.00001.json").json()
    api = httpx.get(live.url + "/api/papers/2401.00001v1").json()
    assert twin == api
    assert api["title"] == "Older paper"
    assert api["authors"] == ["A. Author"]
    assert api["versions"] == [{"version": 1, "submitted_at": T0.isoformat()}]
    listing = httpx.get(live.url + "/api/papers", params={"limit": 2}).json()
    assert [p["id"] for p in listing["papers"]] == ["2402.00002", "2401.00001"]
    # An empty field is "not given" here as on every other route (it was a 400 here only).
    empty = httpx.get(live.url + "/api/papers?limit=&offset=")
    assert empty.status_code == 200 and (empty.json()["limit"], empty.json()["offset"]) == (20, 0)


def test_errors_have_one_json_shape_and_an_html_page(live):
    missing = httpx.get(live.url + "/api/papers/2409.99999")
    assert missing.status_code == 404
    assert missing.json() == {"ok": False, "error": "no paper with id '2409.99999'", "status": 404}
    bad = httpx.get(live.url + "/api/papers", params={"limit": "lots"})
    assert bad.status_code == 400 and bad.json()["error"] == "limit must be a whole number"
    page = httpx.get(live.url + "/papers/not-an-id")
    assert page.status_code == 404 and "<h1>404</h1>" in page.text


def test_health_check_reports_paper_count(live):
    assert httpx.get(live.url + "/healthz").json() == {"ok": True, "papers": 3}
