"""Trending lists on a real database (SQLite and PostgreSQL): live, frozen, never empty."""

import re
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from paperfeed.errors import InvalidInput
from paperfeed.ingest.run import ingest
from paperfeed.ingest.sources.bulk_file import BulkFileSource
from paperfeed.models import Paper, Signal, StoredPaper
from paperfeed.storage import trending as store
from paperfeed.storage.db import writing
from paperfeed.storage.papers import insert_papers
from paperfeed.storage.signals import insert_signals
from paperfeed.trending.service import take_edition, top_up, trending
from tests.support.live import LiveServer, cli_env

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def add_papers(engine, *specs: tuple[str, list[str], datetime]) -> None:
    stored = [
        StoredPaper(
            Paper(
                id=pid,
                title=f"Paper {pid}",
                abstract="An abstract.",
                categories=cats,
                primary_category=cats[0],
                published_at=published,
                source="test",
            ),
            sources=["test"],
            first_seen_at=published,
            last_changed_at=published,
        )
        for pid, cats, published in specs
    ]
    with writing(engine) as conn:
        insert_papers(conn, stored)


def add_readings(engine, *readings: tuple[str, str, float, datetime]) -> None:
    with writing(engine) as conn:
        insert_signals(conn, [Signal(pid, "hf", kind, v, at) for pid, kind, v, at in readings])


@pytest.fixture
def three_papers(engine):
    add_papers(
        engine,
        ("2603.00001", ["cs.CL"], NOW - timedelta(days=2)),
        ("2603.00002", ["cs.CV", "cs.LG"], NOW - timedelta(days=3)),
        ("2603.00003", ["cs.CL"], NOW - timedelta(days=40)),
    )


def ids(listing: dict) -> list[str]:
    return [p["id"] for p in listing["papers"]]


def test_live_trending_ranks_fresh_engagement_and_says_why(engine, three_papers):
    add_readings(
        engine,
        ("2603.00001", "upvotes", 10, NOW - timedelta(days=3)),  # before the day: a baseline
        ("2603.00001", "upvotes", 51, NOW - timedelta(hours=2)),  # +41 today
        ("2603.00002", "upvotes", 60, NOW - timedelta(hours=20)),
        ("2603.00003", "github_stars", 300, NOW - timedelta(hours=1)),
    )
    listing = trending(engine, now=NOW, window="day")
    assert listing["basis"] == "engagement" and listing["note"] is None
    assert ids(listing) == ["2603.00001", "2603.00002", "2603.00003"]
    top = listing["papers"][0]["trending"]
    assert top["rank"] == 1
    assert top["why"] == ["+41 upvotes on Hugging Face in 24 h", "age 2 days"]
    assert top["parts"][0]["gained"] == 41
    # an old paper trends while it is engaged with
    assert listing["papers"][2]["trending"]["why"][0] == "+300 GitHub stars in 24 h"


def test_windows_and_categories_narrow_the_list(engine, three_papers):
    add_readings(
        engine,
        ("2603.00001", "upvotes", 5, NOW - timedelta(hours=2)),
        ("2603.00002", "upvotes", 50, NOW - timedelta(days=5)),
    )
    assert ids(trending(engine, now=NOW, window="day")) == ["2603.00001"]
    assert ids(trending(engine, now=NOW, window="week")) == ["2603.00002", "2603.00001"]
    listing = trending(engine, now=NOW, window="week", category="cs.CL")
    assert ids(listing) == ["2603.00001"] and listing["category"] == "cs.CL"


def test_a_past_day_is_frozen_once_taken(engine, three_papers):
    day = date(2026, 3, 1)
    add_readings(engine, ("2603.00002", "upvotes", 12, datetime(2026, 3, 1, 9, tzinfo=UTC)))
    first = trending(engine, now=NOW, window="day", day=day)
    assert ids(first) == ["2603.00002"] and first["day"] == "2026-03-01"
    # Signals recorded afterwards for that day, even backdated, change nothing.
    add_readings(engine, ("2603.00001", "upvotes", 99, datetime(2026, 3, 1, 10, tzinfo=UTC)))
    again = trending(engine, now=NOW + timedelta(days=30), window="day", day=day)
    assert ids(again) == ["2603.00002"]
    assert again["papers"][0]["trending"] == first["papers"][0]["trending"]
    # while a day not yet taken sees them
    assert ids(trending(engine, now=NOW, window="week", day=day))[0] == "2603.00001"


def test_an_edition_is_stored_once_even_when_two_processes_race(engine, three_papers):
    edition = take_edition(engine, date(2026, 2, 28), "day", now=NOW)
    with writing(engine) as conn:
        assert store.save_edition(conn, edition) is False
    with engine.connect() as conn:
        stored = store.get_edition(conn, date(2026, 2, 28), "day", "")
    assert stored.basis == edition.basis and len(stored.entries) == len(edition.entries)


def test_without_engagement_the_newest_papers_show_with_a_reason(engine, three_papers):
    listing = trending(engine, now=NOW, window="day")
    assert listing["basis"] == "newest"
    assert ids(listing) == ["2603.00001", "2603.00002", "2603.00003"]
    assert "No engagement recorded anywhere yet" in listing["note"]
    assert "trending" not in listing["papers"][0]
    in_cv = trending(engine, now=NOW, window="day", category="cs.CV")
    assert ids(in_cv) == ["2603.00002"] and "in cs.CV" in in_cv["note"]


def test_an_empty_database_gives_an_empty_list_with_a_note_not_an_error(engine):
    listing = trending(engine, now=NOW)
    assert listing["papers"] == [] and listing["note"]


def test_stale_engagement_is_shown_as_of_its_time_with_a_note(engine, three_papers):
    last = NOW - timedelta(days=90)
    add_readings(engine, ("2603.00003", "upvotes", 7, last))
    listing = trending(engine, now=NOW, window="day")
    assert ids(listing) == ["2603.00003"]
    assert listing["as_of"] == last.isoformat()
    assert "the newest engagement on record" in listing["note"]


def test_bad_arguments_are_refused_clearly(engine):
    with pytest.raises(InvalidInput, match="window must be one of day, week, month"):
        trending(engine, now=NOW, window="year")
    with pytest.raises(InvalidInput, match="has not happened yet"):
        trending(engine, now=NOW, day=date(2026, 3, 3))
    with pytest.raises(InvalidInput, match="limit"):
        trending(engine, now=NOW, limit=0)


def test_real_hugging_face_days_trend_by_their_upvotes(engine, shared_data, tmp_path):
    """Two real archived days: each day's edition is that day's list by upvotes."""
    import gzip
    import json

    archive = shared_data / "B_hf_daily_papers" / "hf_daily_papers_api_2025.jsonl.gz"
    days = []
    with gzip.open(archive, "rt") as lines:
        for line in lines:
            day = json.loads(line)
            if isinstance(day["response"], list) and all(
                isinstance(e, dict) for e in day["response"]
            ):
                days.append(day)
            if len(days) == 2:
                break
    path = tmp_path / "two-days.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in days))
    ingest(BulkFileSource(path), engine, clock=lambda: NOW)

    first = date.fromisoformat(days[0]["date"])
    listing = trending(engine, now=NOW, window="day", day=first, limit=100)
    by_upvotes = sorted(
        days[0]["response"], key=lambda e: (-e["paper"]["upvotes"], e["paper"]["id"])
    )
    expected = [e["paper"]["id"] for e in by_upvotes if e["paper"]["upvotes"] > 0]
    assert ids(listing)[: len(expected)][:5] == expected[:5]
    top = listing["papers"][0]
    assert top["trending"]["why"][0].startswith(f"+{by_upvotes[0]['paper']['upvotes']} upvote")


def test_a_thin_window_is_topped_up_with_the_newest_papers_on_pages(services, tmp_path):
    """One upvote on a fresh instance used to make the home page a list of one old paper: the
    page tops the list up with the newest papers and says so; the API keeps the list as is."""
    now = datetime.now(UTC)
    add_papers(
        services.engine,
        *[(f"2603.{n:05d}", ["cs.CL"], now - timedelta(days=90, hours=n)) for n in range(1, 41)],
    )
    add_readings(services.engine, ("2603.00040", "upvotes", 1, now - timedelta(hours=1)))
    listing = trending(services.engine, now=now, window="day")
    assert ids(listing) == ["2603.00040"]
    topped = top_up(services.engine, listing, 30)
    assert ids(topped)[0] == "2603.00040" and len(ids(topped)) == 30
    assert ids(topped)[1:4] == ["2603.00001", "2603.00002", "2603.00003"]  # the newest next
    assert "Only 1 paper had engagement anywhere in this window" in topped["note"]

    server = LiveServer(cli_env(tmp_path, services.settings.database_url)).wait_ready()
    try:
        page = httpx.get(server.url + "/", timeout=30).text
        api = httpx.get(server.url + "/api/trending", timeout=30).json()
    finally:
        server.stop()
    assert len(set(re.findall(r'href="/papers/(2603\.\d{5})"', page))) == 30
    assert "after it come the newest papers" in page
    assert ids(api) == ["2603.00040"]
