"""Atom and RSS feeds from a live server, parsed by feedparser as a feed reader would."""

from __future__ import annotations

from datetime import UTC, datetime

import feedparser
import httpx
import pytest

from paperfeed.ingest.run import ingest
from paperfeed.models import Batch, Paper, Signal
from tests.support.live import LiveServer, cli_env
from tests.support.sources import OneBatch

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def live(services, tmp_path):
    papers = [
        Paper(
            id="2403.00001",
            title="Sparse attention for long documents",
            abstract="We make attention sparse.\x01 Control characters & <tags> are text.",
            authors=["Ada Lovelace", "Alan Turing"],
            categories=["cs.CL", "cs.LG"],
            published_at=T0,
            pdf_url="https://arxiv.org/pdf/2403.00001",
            source="arxiv-oai",
        ),
        Paper(
            id="2403.00002",
            title="Diffusion models for proteins",
            abstract="Proteins, diffused.",
            authors=["Rosalind Franklin"],
            categories=["q-bio.BM"],
            published_at=datetime(2026, 3, 2, tzinfo=UTC),
            source="arxiv-oai",
        ),
    ]
    signals = [Signal("2403.00001", "hf", "upvotes", 9, T0)]
    ingest(OneBatch(Batch(papers=papers, signals=signals)), services.engine)
    server = LiveServer(cli_env(tmp_path, services.settings.database_url)).wait_ready()
    yield server
    server.stop()


def fetch(live, path: str, **params) -> httpx.Response:
    return httpx.get(live.url + path, params=params, timeout=30)


def test_trending_feed_parses_and_says_why(live):
    response = fetch(live, "/trending.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "Trending (day)"
    entry = feed.entries[0]
    assert entry.title == "Sparse attention for long documents"
    assert entry.link == live.url + "/papers/2403.00001"
    assert "+9 upvotes on Hugging Face" in entry.summary
    assert "<tags>" in entry.summary  # text stays text, escaped in the XML
    assert [a.name for a in entry.authors] == ["Ada Lovelace", "Alan Turing"]
    assert {t.term for t in entry.tags} == {"cs.CL", "cs.LG"}


def test_rss_feeds_of_new_papers_per_category(live):
    feed = feedparser.parse(fetch(live, "/new.rss").content)
    assert not feed.bozo and feed.version == "rss20"
    assert [e.title for e in feed.entries] == [
        "Diffusion models for proteins",
        "Sparse attention for long documents",
    ]
    in_cl = feedparser.parse(fetch(live, "/new.atom", category="cs.CL").content)
    assert [e.title for e in in_cl.entries] == ["Sparse attention for long documents"]
    category = feedparser.parse(fetch(live, "/categories/q-bio.BM.rss").content)
    assert [e.title for e in category.entries] == ["Diffusion models for proteins"]


def test_a_saved_search_is_a_feed(live):
    feed = feedparser.parse(fetch(live, "/search.atom", q="proteins", mode="keyword").content)
    assert not feed.bozo
    assert feed.feed.title == "Search: proteins"
    assert [e.title for e in feed.entries] == ["Diffusion models for proteins"]
    page = fetch(live, "/search", q="proteins", mode="keyword").text
    assert 'type="application/atom+xml"' in page and "/search.atom?q=proteins" in page


def test_conditional_get_answers_304_when_nothing_changed(live):
    first = fetch(live, "/new.atom")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = httpx.get(live.url + "/new.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    by_date = httpx.get(live.url + "/new.atom", headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    stale = httpx.get(live.url + "/new.atom", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


def test_every_html_page_advertises_a_feed(live):
    for path in ("/", "/new", "/categories", "/papers/2403.00001", "/search?q=attention"):
        html = fetch(live, path).text
        assert '<link rel="alternate" type="application/atom+xml"' in html, path
