"""Views count for trending: once per visitor per paper per day, never for bots."""

import time
from datetime import UTC, datetime, timedelta

import httpx

from paperfeed.trending.service import trending
from paperfeed.trending.views import AGENTS_PER_ADDRESS, FLUSH_S, count_view, is_bot
from tests.support.live import LiveServer, cli_env
from tests.trending.test_trending import NOW, add_papers, add_readings, ids

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


def test_one_address_counts_at_most_three_views_a_day_whatever_the_agents(engine):
    add_papers(engine, ("2603.00001", ["cs.CL"], NOW - timedelta(days=1)))
    counted = [view(engine, "2603.00001", agent=f"Mozilla/5.0 Agent/{n}") for n in range(300)]
    assert sum(counted) == AGENTS_PER_ADDRESS == 3
    # An IPv6 subscriber line is a /64: its addresses are one address.
    line = [
        view(engine, "2603.00001", address=f"2001:db8::{n:x}", agent=FIREFOX) for n in range(50)
    ]
    assert sum(line) == 1
    assert view(engine, "2603.00001", address="2001:db8:0:1::1") is True  # another /64


def test_views_from_many_addresses_are_worth_one_upvote_at_most(engine):
    add_papers(
        engine,
        ("2603.00001", ["cs.CL"], NOW - timedelta(days=1)),
        ("2603.00002", ["cs.CL"], NOW - timedelta(days=1)),
    )
    add_readings(engine, ("2603.00001", "upvotes", 2, NOW - timedelta(minutes=5)))
    for n in range(400):  # a botnet's 400 addresses
        view(
            engine,
            "2603.00002",
            address=f"10.0.{n // 250}.{n % 250}",
            at=NOW - timedelta(minutes=1),
        )
    listing = trending(engine, now=NOW, window="day")
    assert ids(listing) == ["2603.00001", "2603.00002"]
    [views] = listing["papers"][1]["trending"]["parts"]
    assert views["gained"] == 400 and views["points"] <= 1.0


def test_300_agents_from_one_address_leave_the_home_page_ranking_unchanged(services, tmp_path):
    """The attack as reported: 300 paper-page GETs with 300 User-Agents from one address."""
    now = datetime.now(UTC)
    engaged = [f"2603.{n:05d}" for n in range(1, 36)]
    add_papers(
        services.engine,
        *[(pid, ["cs.CL"], now - timedelta(days=1)) for pid in [*engaged, "2603.09999"]],
    )
    add_readings(
        services.engine,
        *[(pid, "upvotes", 1 + n % 5, now - timedelta(hours=2)) for n, pid in enumerate(engaged)],
    )
    server = LiveServer(cli_env(tmp_path, services.settings.database_url)).wait_ready()
    try:
        before = ids(httpx.get(server.url + "/api/trending", params={"limit": 30}).json())
        assert "2603.09999" not in before
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for n in range(300):
                agent = f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/{100 + n}.0"
                assert client.get("/papers/2603.09999", headers={"User-Agent": agent}).is_success
        time.sleep(FLUSH_S * 2)  # the views are stored in the background
        after = httpx.get(server.url + "/api/trending", params={"limit": 30}).json()
        log = server.stop()
    finally:
        server.stop()
    assert ids(after) == before
    assert "view burst" in log
