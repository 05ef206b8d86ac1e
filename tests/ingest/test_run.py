"""The ingest runner on real databases: idempotence, merging, failures, checkpoints, signals."""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from paperfeed import catalog
from paperfeed.errors import SourceUnavailable
from paperfeed.ingest.normalize import local_paper_id
from paperfeed.ingest.run import ingest
from paperfeed.models import Batch, Paper, RecordFailure, Signal, Version
from paperfeed.storage import ingest_runs, signals
from paperfeed.storage.db import writing

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class ListSource:
    """A source that yields prepared batches, and fails after `fail_after` batches if set."""

    def __init__(self, batches, *, name="arxiv-oai", key="test:key", fail_after=None):
        self.name = name
        self._batches = batches
        self._key = key
        self._fail_after = fail_after
        self.resumed_from = "never called"

    def checkpoint_key(self):
        return self._key

    def batches(self, checkpoint):
        self.resumed_from = checkpoint
        start = checkpoint["next"] if checkpoint else 0
        for index in range(start, len(self._batches)):
            if self._fail_after is not None and index >= self._fail_after:
                raise SourceUnavailable("upstream went away")
            batch = self._batches[index]
            batch.checkpoint = {"next": index + 1}
            yield batch


def paper(pid, title="A title", version=1, source="arxiv-oai", **fields):
    return Paper(
        id=pid,
        title=title,
        abstract=fields.pop("abstract", "An abstract."),
        authors=fields.pop("authors", ["Ada Lovelace"]),
        version=version,
        versions=[Version(version, T0)] if version else [],
        source=source,
        **fields,
    )


def clock_at(moment):
    return lambda: moment


def test_same_input_twice_changes_nothing(engine):
    batch = [paper("2401.00001"), paper("2401.00002", categories=["cs.CL"]), paper("2401.00003")]
    first = ingest(ListSource([Batch(papers=list(batch))], key=None), engine, clock=clock_at(T0))
    second = ingest(
        ListSource([Batch(papers=list(batch))], key=None),
        engine,
        clock=clock_at(T0 + timedelta(days=1)),
    )
    assert (first.new, first.updated, first.unchanged) == (3, 0, 0)
    assert (second.new, second.updated, second.unchanged) == (0, 0, 3)
    stored = catalog.get_paper(engine, "2401.00002")
    assert stored["last_changed_at"] == T0.isoformat()
    assert stored["categories"] == ["cs.CL"]


def test_newer_version_replaces_older_and_keeps_history(engine):
    ingest(ListSource([Batch(papers=[paper("2401.00001", "Old title", 1)])], key=None), engine)
    v2 = paper("2401.00001", "New title", 2, abstract="Revised.")
    v2.versions = [Version(1, T0), Version(2, T0 + timedelta(days=30))]
    report = ingest(ListSource([Batch(papers=[v2])], key=None), engine)
    assert report.updated == 1
    stored = catalog.get_paper(engine, "2401.00001v1")
    assert stored["title"] == "New title"
    assert stored["version"] == 2
    assert [v["version"] for v in stored["versions"]] == [1, 2]


def test_older_version_only_fills_empty_fields(engine):
    ingest(ListSource([Batch(papers=[paper("2401.00001", "Title v3", 3)])], key=None), engine)
    old = paper("2401.00001", "Title v1", 1, doi="10.1/xyz")
    ingest(ListSource([Batch(papers=[old])], key=None), engine)
    stored = catalog.get_paper(engine, "2401.00001")
    assert stored["title"] == "Title v3"
    assert stored["version"] == 3
    assert stored["doi"] == "10.1/xyz"
    assert [v["version"] for v in stored["versions"]] == [1, 3]


def test_same_paper_from_two_sources_is_one_paper(engine):
    from_arxiv = paper(
        "2401.00001",
        "Attention Is All You Need",
        categories=["cs.CL", "cs.LG"],
        primary_category="cs.CL",
    )
    from_hf = paper(
        "2401.00001",
        "Attention is all you need!",
        version=None,
        source="hf-daily",
        code_url="https://github.com/example/repo",
    )
    ingest(ListSource([Batch(papers=[from_arxiv])], key=None), engine)
    report = ingest(ListSource([Batch(papers=[from_hf])], name="hf-daily", key=None), engine)
    assert report.updated == 1
    stored = catalog.get_paper(engine, "2401.00001")
    assert stored["title"] == "Attention Is All You Need"  # arXiv's metadata is authoritative
    assert stored["links"]["code"] == "https://github.com/example/repo"  # HF fills the gap
    assert stored["categories"] == ["cs.CL", "cs.LG"]
    assert stored["sources"] == ["arxiv-oai", "hf-daily"]
    assert catalog.stats(engine)["papers"] == 1
    again = ingest(ListSource([Batch(papers=[from_hf])], name="hf-daily", key=None), engine)
    assert (again.updated, again.unchanged) == (0, 1)


def test_one_bad_record_is_reported_and_the_batch_goes_on(engine):
    batch = Batch(
        papers=[
            paper("2401.00001"),
            paper("2401.00002", title=""),
            paper("2401.00003", abstract="x" * 60_000),
            paper("2401.00004"),
        ],
        failures=[RecordFailure("arxiv-oai", "page 1 record 7", "missing <id>")],
    )
    report = ingest(ListSource([batch], key=None), engine)
    assert report.status == "done"
    assert (report.new, report.failed) == (2, 3)
    reasons = {f.position: f.reason for f in report.failures}
    assert "no title" in reasons["2401.00002"]
    assert "abstract longer" in reasons["2401.00003"]
    assert reasons["page 1 record 7"] == "missing <id>"
    with engine.connect() as conn:
        assert len(ingest_runs.failures_of(conn, report.run_id)) == 3
    assert catalog.stats(engine)["papers"] == 2


def test_failed_run_keeps_stored_batches_and_resumes_after_them(engine):
    batches = [Batch(papers=[paper(f"2401.0000{i}")]) for i in range(1, 4)]
    failing = ListSource(batches, fail_after=1)
    report = ingest(failing, engine)
    assert report.status == "failed"
    assert "upstream went away" in report.error
    assert catalog.stats(engine)["papers"] == 1
    resumed = ListSource(batches)
    report = ingest(resumed, engine)
    assert resumed.resumed_from == {"next": 1}
    assert (report.status, report.new) == ("done", 2)
    assert catalog.stats(engine)["papers"] == 3


def test_restart_forgets_the_checkpoint_of_a_failed_run(engine):
    batches = [Batch(papers=[paper(f"2401.0000{i}")]) for i in range(1, 4)]
    ingest(ListSource(batches, fail_after=1), engine)
    again = ListSource(batches)
    report = ingest(again, engine, restart=True)
    assert again.resumed_from is None
    assert (report.new, report.unchanged) == (2, 1)


def test_duplicates_within_one_batch_become_one_paper(engine):
    batch = Batch(papers=[paper("2401.00001", "First"), paper("2401.00001", "Second", 2)])
    report = ingest(ListSource([batch], key=None), engine)
    assert (report.new, report.updated) == (1, 1)
    assert catalog.get_paper(engine, "2401.00001")["title"] == "Second"


def test_signals_are_stored_once_and_only_when_they_change(engine):
    def reading(value, at):
        return Signal("2401.00001", "hf", "upvotes", value, at)

    day = timedelta(days=1)
    batch = Batch(
        papers=[paper("2401.00001")],
        signals=[reading(5, T0), reading(5, T0 + day), reading(9, T0 + 2 * day)],
    )
    first = ingest(ListSource([batch], key=None), engine)
    again = ingest(ListSource([replace(batch)], key=None), engine)
    assert first.signals == 2  # the unchanged reading on day 2 adds nothing
    assert again.signals == 0
    with engine.connect() as conn:
        values = [(s.value, s.observed_at) for s in signals.readings_for(conn, "2401.00001")]
    assert values == [(5, T0), (9, T0 + 2 * day)]
    assert catalog.get_paper(engine, "2401.00001")["signals"] == {"upvotes": 9}


def test_signal_for_unknown_paper_is_reported_not_fatal(engine):
    batch = Batch(
        papers=[paper("2401.00001")], signals=[Signal("2409.99999", "hf", "upvotes", 3, T0)]
    )
    report = ingest(ListSource([batch], key=None), engine)
    assert report.status == "done"
    assert [f.reason for f in report.failures] == ["signal for an unknown paper"]


def test_finished_run_keeps_its_checkpoint_only_for_incremental_sources(engine):
    batches = [Batch(papers=[paper("2401.00001")]), Batch(papers=[paper("2401.00002")])]
    harvest = ListSource(batches, key="arxiv-oai:arXiv:cs")
    harvest.incremental = True
    ingest(harvest, engine)
    one_file = ListSource(batches, key="file:/papers.jsonl")
    ingest(one_file, engine)
    with writing(engine) as conn:
        assert ingest_runs.load_checkpoint(conn, "arxiv-oai:arXiv:cs") == {"next": 2}
        assert ingest_runs.load_checkpoint(conn, "file:/papers.jsonl") is None
    again = ListSource(batches, key="file:/papers.jsonl")
    report = ingest(again, engine)
    assert again.resumed_from is None and report.unchanged == 2


@pytest.mark.parametrize(
    "raw", ["2401.00001", "2401.00001v3", "arXiv:2401.00001", "https://arxiv.org/abs/2401.00001v2"]
)
def test_a_paper_is_found_by_any_form_of_its_arxiv_id(engine, raw):
    ingest(ListSource([Batch(papers=[paper("2401.00001")])], key=None), engine)
    assert catalog.get_paper(engine, raw)["id"] == "2401.00001"


def test_a_version_from_outside_arxiv_never_outranks_arxiv(engine):
    ingest(ListSource([Batch(papers=[paper("2401.00001", "arXiv title", 2)])], key=None), engine)
    from_bibtex = paper("2401.00001", "My BibTeX title", 9, source="bibtex")
    ingest(ListSource([Batch(papers=[from_bibtex])], name="bibtex", key=None), engine)
    stored = catalog.get_paper(engine, "2401.00001")
    assert (stored["title"], stored["version"]) == ("arXiv title", 2)
    v3 = paper("2401.00001", "arXiv title v3", 3)
    ingest(ListSource([Batch(papers=[v3])], key=None), engine)
    assert catalog.get_paper(engine, "2401.00001")["title"] == "arXiv title v3"


def test_arxiv_corrects_a_paper_first_seen_with_a_wrong_version_elsewhere(engine):
    from_bibtex = paper("2401.00002", "My BibTeX title", 9, source="bibtex")
    ingest(ListSource([Batch(papers=[from_bibtex])], name="bibtex", key=None), engine)
    ingest(ListSource([Batch(papers=[paper("2401.00002", "arXiv title", 2)])], key=None), engine)
    stored = catalog.get_paper(engine, "2401.00002")
    assert (stored["title"], stored["version"]) == ("arXiv title", 2)
    assert [v["version"] for v in stored["versions"]] == [2]


def test_the_daily_listing_does_not_flip_dates_set_by_a_full_arxiv_record(engine):
    submitted = datetime(2026, 2, 27, 18, 0, tzinfo=UTC)
    announced = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    full = paper("2602.00001", published_at=submitted)
    listed = paper("2602.00001", published_at=announced, source="arxiv-listing")
    for _ in range(2):
        ingest(ListSource([Batch(papers=[full])], key=None), engine)
        report = ingest(
            ListSource([Batch(papers=[listed])], name="arxiv-listing", key=None), engine
        )
    assert report.updated == 0
    assert catalog.get_paper(engine, "2602.00001")["published_at"] == submitted.isoformat()


def test_hostile_values_in_a_file_cost_one_record_each_on_either_database(engine, tmp_path):
    from paperfeed.ingest.sources.bulk_file import BulkFileSource

    lines = [
        {"id": "2401.00001", "title": "Fine"},
        {"id": "2401.00002", "title": "Year zero", "published": "0001-01-01T00:00:00+01:00"},
        {"id": "2401.00003v99999999999999999999", "title": "Huge version"},
        {"id": "2401.00004", "title": "Long category", "categories": ["x" * 60 + ".YY"]},
        {"id": "2401.00005", "title": "NUL link", "pdf_url": "https://a.org/\u0000x"},
        {"id": "2401.00006", "title": "Also fine", "categories": ["cs.CL"]},
    ]
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(__import__("json").dumps(line) for line in lines) + "\n")
    report = ingest(BulkFileSource(path, file_format="jsonl"), engine)
    assert report.status == "done"
    assert (report.new, report.failed) == (4, 2)
    reasons = sorted(f.reason for f in report.failures)
    assert "unreadable date" in reasons[1] and "NUL" in reasons[0]
    # Not an arXiv id (the version is absurd): kept under a local id, as the schema says.
    assert catalog.get_paper(engine, local_paper_id("Huge version"))["arxiv_id"] is None
    # A category that cannot be one is dropped, not stored.
    titles = {p["title"]: p for p in catalog.list_papers(engine, limit=10)}
    assert titles["Long category"]["categories"] == []


def test_times_in_any_zone_are_stored_as_the_same_instant_in_utc(engine):
    from datetime import timezone

    plus_five = timezone(timedelta(hours=5))
    first = paper("2401.00001", published_at=datetime(2026, 3, 1, 12, 0, tzinfo=plus_five))
    ingest(ListSource([Batch(papers=[first])], key=None), engine)  # the bulk insert path
    second = paper("2401.00001", "v2", 2, updated_at=datetime(2026, 3, 2, 12, 0, tzinfo=plus_five))
    ingest(ListSource([Batch(papers=[second])], key=None), engine)  # the update path
    stored = catalog.get_paper(engine, "2401.00001")
    assert stored["published_at"] == "2026-03-01T07:00:00+00:00"
    assert stored["updated_at"] == "2026-03-02T07:00:00+00:00"


@pytest.mark.parametrize("stopped_at", [1, 2, 3], ids=["starting", "first batch", "second batch"])
def test_ctrl_c_at_any_write_leaves_the_run_interrupted_and_resumable(engine, stopped_at):
    # Each clock() call is inside one of the run's write transactions (starting the run, then
    # each batch): Ctrl-C there is held until it commits, so the run's own row can say how it
    # ended and a rerun resumes after the last committed batch.
    calls = []

    def clock():
        calls.append(1)
        if len(calls) == stopped_at:
            os.kill(os.getpid(), signal.SIGINT)
        return T0

    batches = [Batch(papers=[paper(f"2401.0000{i}")]) for i in range(1, 4)]
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            ingest(ListSource(batches), engine, clock=clock)
    finally:
        signal.signal(signal.SIGINT, before)
    with engine.connect() as conn:
        (run,) = ingest_runs.recent_runs(conn)
    assert run["status"] == "interrupted"
    assert catalog.stats(engine)["papers"] == stopped_at - 1  # every batch begun was committed
    resumed = ingest(ListSource(batches), engine, clock=clock_at(T0))
    assert (resumed.status, resumed.new) == ("done", 3 - (stopped_at - 1))
