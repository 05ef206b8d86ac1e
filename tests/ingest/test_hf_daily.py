"""HfDailySource and parse_daily_papers against the 28 real recorded single-day responses.

Responses are served by ReplayServer on loopback; malformed inputs come from tests/data/hf/.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest

from paperfeed.errors import InvalidInput, SourceUnavailable
from paperfeed.ingest.http import PoliteClient
from paperfeed.ingest.sources.hf_daily import LIVE_FOR, HfDailySource, parse_daily_papers
from tests.support.replay import Exchange

FETCHED_AT = datetime(2026, 8, 21, 9, 30, tzinfo=UTC)
JSON = [("Content-Type", "application/json; charset=utf-8")]


def _raw_days(shared_data):
    folder = shared_data / "B_hf_daily_papers" / "raw_daily_papers_responses"
    return {
        date.fromisoformat(path.stem.removeprefix("daily_papers_")): path.read_bytes()
        for path in sorted(folder.glob("daily_papers_*.json"))
    }


def _queue_day(server, day: date, body: bytes | str, status: int = 200, **kwargs) -> None:
    path = f"/api/daily_papers?date={day.isoformat()}&limit=100"
    headers = kwargs.pop("headers", JSON)
    server.queue(path, Exchange(status, body, headers, **kwargs))


def _source(server, sleeps, dates, **kwargs) -> HfDailySource:
    client = PoliteClient(
        min_interval_s=0, timeout_s=kwargs.pop("timeout_s", 5), sleep=sleeps, **kwargs
    )
    return HfDailySource(client, dates=dates, endpoint=server.url, clock=lambda: FETCHED_AT)


def _entry(paper_id: str, title: str = "A title") -> dict:
    return {"paper": {"id": paper_id, "title": title, "upvotes": 1}, "numComments": 0}


def test_all_28_recorded_days_load_every_entry_with_its_signals(
    shared_data, replay_server, recorded_sleeps
):
    days = _raw_days(shared_data)
    assert len(days) == 28
    for day, body in days.items():
        _queue_day(replay_server, day, body)

    batches = list(_source(replay_server, recorded_sleeps, list(days)).batches(None))

    papers = [p for b in batches for p in b.papers]
    signals = [s for b in batches for s in b.signals]
    assert len(batches) == 28
    assert sum(len(b.failures) for b in batches) == 0
    assert len(papers) == 459  # every entry of every day, the Python-literal ones included
    assert len(signals) == 1056  # upvotes + comments per entry, plus github_stars when given
    # Counts of a day fetched long after it are stamped with that day (plus LIVE_FOR), never
    # with the fetch: a backfill must not look like fresh engagement.
    day_of = {p.id: d for b, d in zip(batches, sorted(days), strict=True) for p in b.papers}
    for signal in signals:
        listed = day_of[signal.paper_id]
        expected = datetime.combine(listed + timedelta(days=1), time(), UTC) + LIVE_FOR
        assert signal.observed_at == min(FETCHED_AT, expected)
    assert {s.observed_at for s in signals} != {FETCHED_AT}
    assert all(p.source == "hf-daily" for p in papers)
    first = papers[0]
    assert first.id == "2405.15738"
    assert first.title == (
        "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"
    )
    assert first.authors[:3] == ["Chunjiang Ge", "Sijie Cheng", "Ziming Wang"]
    assert len(first.authors) == 9
    assert first.published_at == datetime(2024, 5, 24, 17, 34, 15, tzinfo=UTC)
    assert first.abs_url == "https://arxiv.org/abs/2405.15738"
    readings = {(s.kind, s.value) for s in signals if s.paper_id == "2405.15738"}
    assert readings == {("upvotes", 32.0), ("comments", 3.0)}


def test_python_literal_entries_of_2025_01_02_are_decoded(shared_data, replay_server):
    body = (shared_data / "B_hf_daily_papers/raw_daily_papers_responses").joinpath(
        "daily_papers_2025-01-02.json"
    )
    assert all(isinstance(e, str) for e in json.loads(body.read_text()))

    parsed = parse_daily_papers(json.loads(body.read_text()), FETCHED_AT, "2025-01-02")

    assert [p.id for p in parsed.papers] == ["2412.19723", "2412.19638", "2412.20735"]
    assert parsed.papers[1].title == "Xmodel-2 Technical Report"
    upvotes = {s.paper_id: s.value for s in parsed.signals if s.kind == "upvotes"}
    assert upvotes == {"2412.19723": 47.0, "2412.19638": 9.0, "2412.20735": 1.0}
    assert parsed.failures == []


def test_github_repo_and_stars_become_code_url_and_signal(shared_data):
    path = shared_data / "B_hf_daily_papers/raw_daily_papers_responses/daily_papers_2025-07-01.json"
    parsed = parse_daily_papers(json.loads(path.read_text()), FETCHED_AT, "2025-07-01")

    ovis = parsed.papers[0]
    assert (ovis.id, ovis.code_url) == ("2506.23044", "https://github.com/AIDC-AI/Ovis-U1")
    kinds = {s.kind: s.value for s in parsed.signals if s.paper_id == "2506.23044"}
    assert kinds == {"upvotes": 26.0, "comments": 2.0, "github_stars": 120.0}


def test_each_bad_entry_fails_alone_with_its_position(test_data):
    entries = json.loads((test_data / "hf/malformed_day_2025-07-01.json").read_text())

    parsed = parse_daily_papers(entries, FETCHED_AT, "2025-07-01")

    ids = [p.id for p in parsed.papers]
    assert ids == ["2506.23044", "2506.23858", "2507.00003", "2507.00004"]
    failures = {f.position: f.reason for f in parsed.failures}
    assert failures == {
        "2025-07-01 entry 2": "entry is text that is neither JSON nor a Python literal",
        "2025-07-01 entry 4": "entry has no paper object",
        "2025-07-01 entry 5": "not an arXiv id: 'not-an-id'",
        "2025-07-01 entry 6": "no title",
        "2025-07-01 entry 9": "entry is text that is neither JSON nor a Python literal",
    }
    assert {f.source for f in parsed.failures} == {"hf-daily"}


def test_older_schema_with_title_only_at_top_level_is_read(test_data):
    entries = json.loads((test_data / "hf/malformed_day_2025-07-01.json").read_text())
    parsed = parse_daily_papers(entries, FETCHED_AT, "d")

    paper = next(p for p in parsed.papers if p.id == "2507.00003")
    assert paper.title == "Top-level title only"
    assert paper.abstract == "Only the entry itself carries the title."
    assert paper.authors == ["Ann One"]


def test_hostile_entry_is_cleaned_and_unusable_values_are_dropped(test_data):
    entries = json.loads((test_data / "hf/malformed_day_2025-07-01.json").read_text())
    parsed = parse_daily_papers(entries, FETCHED_AT, "d")

    paper = next(p for p in parsed.papers if p.id == "2507.00004")
    assert paper.version == 2
    assert paper.title == "Hostile Title"
    assert paper.abstract == "Abstract"
    assert paper.authors == ["Eve Evil"]
    assert paper.code_url == "https://github.com/owner/repo"  # the URL broken over two lines
    assert paper.project_url is None  # javascript: is no web page
    # upvotes=true, stars="12" and comments=-4 are not counts: no signal rather than a wrong one
    assert [s for s in parsed.signals if s.paper_id == "2507.00004"] == []


def test_checkpoint_after_each_date_and_resume_skips_completed_dates(
    shared_data, replay_server, recorded_sleeps
):
    days = _raw_days(shared_data)
    chosen = [date(2025, 1, 2), date(2025, 2, 3), date(2025, 3, 3)]
    for day in chosen:
        _queue_day(replay_server, day, days[day])
    source = _source(replay_server, recorded_sleeps, chosen)

    run = source.batches(None)
    first = next(run)
    run.close()  # the run stops after its first date was stored
    assert first.checkpoint == {
        "last_date": "2025-01-02",
        "range": ["2025-01-02", "2025-03-03"],
        "complete": False,
    }

    resumed = list(source.batches(first.checkpoint))

    assert [b.checkpoint["last_date"] for b in resumed] == ["2025-02-03", "2025-03-03"]
    assert resumed[-1].checkpoint["complete"] is True
    assert [r.split("?")[1] for r in replay_server.requests] == [
        "date=2025-01-02&limit=100",
        "date=2025-02-03&limit=100",
        "date=2025-03-03&limit=100",
    ]


def test_finished_run_or_another_range_starts_from_the_first_date(
    shared_data, replay_server, recorded_sleeps
):
    days = _raw_days(shared_data)
    day = date(2025, 2, 3)
    for _ in range(2):
        _queue_day(replay_server, day, days[day])
    source = _source(replay_server, recorded_sleeps, [day])
    finished = {"last_date": "2025-02-03", "range": ["2025-02-03", "2025-02-03"], "complete": True}
    other = {"last_date": "2025-02-03", "range": ["2025-01-01", "2025-02-28"], "complete": False}

    again = list(source.batches(finished))
    other_range = list(source.batches(other))

    assert len(again[0].papers) == len(other_range[0].papers) == 4
    assert len(replay_server.requests) == 2


def test_503_then_200_is_retried_and_the_day_is_read(shared_data, replay_server, recorded_sleeps):
    day = date(2025, 3, 3)
    _queue_day(replay_server, day, "busy", status=503, headers=[("Retry-After", "7")])
    _queue_day(replay_server, day, _raw_days(shared_data)[day])

    batches = list(_source(replay_server, recorded_sleeps, [day]).batches(None))

    assert len(batches[0].papers) == 7
    assert 7 in recorded_sleeps
    assert len(replay_server.requests) == 2


def test_hanging_server_raises_source_unavailable_naming_the_url(replay_server, recorded_sleeps):
    day = date(2025, 3, 3)
    for _ in range(2):
        _queue_day(replay_server, day, b"", behaviour="hang", hang_s=2)
    source = _source(replay_server, recorded_sleeps, [day], timeout_s=0.5, max_retries=1)

    with pytest.raises(SourceUnavailable, match=r"/api/daily_papers: timed out after 2 attempts"):
        list(source.batches(None))


def test_garbage_body_raises_source_unavailable_naming_the_day_url(replay_server, recorded_sleeps):
    day = date(2025, 3, 3)
    _queue_day(replay_server, day, "<html><body>Service maintenance</body></html>")

    with pytest.raises(SourceUnavailable) as raised:
        list(_source(replay_server, recorded_sleeps, [day]).batches(None))

    assert "/api/daily_papers?date=2025-03-03&limit=100: answer is not JSON" in str(raised.value)


def test_error_object_instead_of_list_raises_with_the_servers_message(
    replay_server, recorded_sleeps
):
    day = date(2025, 3, 3)
    _queue_day(replay_server, day, json.dumps({"error": "Invalid date"}), status=400)

    with pytest.raises(SourceUnavailable, match=r"HTTP 400 \(Invalid date\)"):
        list(_source(replay_server, recorded_sleeps, [day]).batches(None))


def test_dropped_connection_is_retried_then_reported(replay_server, recorded_sleeps):
    day = date(2025, 3, 3)
    for _ in range(2):
        _queue_day(replay_server, day, b"", behaviour="drop")
    source = _source(replay_server, recorded_sleeps, [day], max_retries=1)

    with pytest.raises(SourceUnavailable, match="connection failed"):
        list(source.batches(None))


def test_full_page_is_followed_by_the_next_page(replay_server, recorded_sleeps):
    day = date(2026, 6, 1)
    page0 = [_entry(f"2605.{n:05d}") for n in range(100)]
    page1 = [_entry(f"2605.{n:05d}") for n in range(100, 103)]
    _queue_day(replay_server, day, json.dumps(page0))
    replay_server.queue(
        "/api/daily_papers?date=2026-06-01&limit=100&p=1", Exchange(200, json.dumps(page1), JSON)
    )

    batches = list(_source(replay_server, recorded_sleeps, [day]).batches(None))

    assert sum(len(b.papers) for b in batches) == 103
    assert batches[-1].papers[-1].id == "2605.00102"


def test_server_ignoring_the_page_parameter_does_not_loop(replay_server, recorded_sleeps):
    day = date(2026, 6, 1)
    page = json.dumps([_entry(f"2605.{n:05d}") for n in range(100)])
    _queue_day(replay_server, day, page)
    replay_server.queue(
        "/api/daily_papers?date=2026-06-01&limit=100&p=1", Exchange(200, page, JSON)
    )

    batches = list(_source(replay_server, recorded_sleeps, [day]).batches(None))

    assert sum(len(b.papers) for b in batches) == 100
    assert len(replay_server.requests) == 2


def test_large_day_is_cut_into_batches_and_only_the_last_carries_the_checkpoint(
    replay_server, recorded_sleeps
):
    day = date(2026, 6, 1)
    _queue_day(replay_server, day, json.dumps([_entry(f"2605.{n:05d}") for n in range(5)]))
    client = PoliteClient(min_interval_s=0, sleep=recorded_sleeps)
    source = HfDailySource(
        client, dates=[day], endpoint=replay_server.url, clock=lambda: FETCHED_AT, batch_size=2
    )

    batches = list(source.batches(None))

    assert [len(b.papers) for b in batches] == [2, 2, 1]
    assert [len(b.signals) for b in batches] == [4, 4, 2]
    assert [b.checkpoint for b in batches[:2]] == [None, None]
    assert batches[-1].checkpoint["last_date"] == "2026-06-01"


def test_day_without_papers_yields_a_note(replay_server, recorded_sleeps):
    day = date(2025, 1, 4)
    _queue_day(replay_server, day, "[]")

    batches = list(_source(replay_server, recorded_sleeps, [day]).batches(None))

    assert batches[0].papers == []
    assert batches[0].note == "no papers listed for 2025-01-04"
    assert batches[0].checkpoint["complete"] is True


def test_no_dates_is_refused(recorded_sleeps):
    with pytest.raises(InvalidInput, match="no dates"):
        HfDailySource(PoliteClient(sleep=recorded_sleeps), dates=[])
