"""Views count for trending: once per visitor per paper per day, never for bots."""

from datetime import UTC, datetime, timedelta

import httpx

from paperfeed.trending.service import trending
from paperfeed.trending.views import count_view, is_bot
from tests.support.live import LiveServer, cli_env
from tests.trending.test_trending import NOW, add_papers, ids

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"


def view(engine, paper_id, address="203.0.113.7", agent=FIREFOX, at=NOW):
    return count_view(engine, paper_id, address=address, user_agent=agent, now=at)


def test_a_visitor_counts_once_a_day_and_bots_never(engine):
    add_papers(engine, ("2603.00001", ["cs.CL"], NOW - timedelta(days=1)))
    assert view(engine, "2603.00001") is True
    assert view(engine, "2603.00001", at=NOW + timedelta(hours=1)) is False  # same person, day
    assert view(engine, "2603.00001", agent=SAFARI) is True  # another device
    assert view(engine, "2603.00001", address="198.51.100.1") is True
    assert view(engine, "2603.00001", at=NOW + timedelta(days=1)) is True  # the next day
    for agent in ("Googlebot/2.1", "curl/8.5.0", "python-httpx/0.27", None, ""):
        assert view(engine, "2603.00001", agent=agent) is False, agent
    assert is_bot("Mozilla/5.0 (X11) HeadlessChrome/126.0")


def test_views_make_a_paper_trend_with_the_reason(engine):
    add_papers(
        engine,
        ("2603.00001", ["cs.CL"], NOW - timedelta(days=1)),
        ("2603.00002", ["cs.CL"], NOW - timedelta(days=1)),
    )
    for n in range(3):
        view(engine, "2603.00002", address=f"192.0.2.{n}", at=NOW - timedelta(hours=1))
    listing = trending(engine, now=NOW, window="day")
    assert ids(listing) == ["2603.00002"]
    assert listing["papers"][0]["trending"]["why"][0] == "+3 views in 24 h"


def test_opening_a_paper_page_counts_a_view(services, tmp_path):
    add_papers(services.engine, ("2603.00001", ["cs.CL"], datetime.now(UTC) - timedelta(days=1)))
    server = LiveServer(cli_env(tmp_path, services.settings.database_url)).wait_ready()
    try:
        for agent in (FIREFOX, FIREFOX, "Googlebot/2.1"):
            page = httpx.get(server.url + "/papers/2603.00001", headers={"User-Agent": agent})
            assert page.status_code == 200
        httpx.get(server.url + "/papers/2603.00001.json", headers={"User-Agent": SAFARI})
        listing = httpx.get(server.url + "/api/trending").json()
    finally:
        server.stop()
    assert ids(listing) == ["2603.00001"]
    assert listing["papers"][0]["trending"]["parts"][0] == {
        "source": "local",
        "kind": "views",
        "gained": 1.0,
        "points": listing["papers"][0]["trending"]["parts"][0]["points"],
    }
