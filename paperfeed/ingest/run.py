"""The one ingest runner: take batches from any source, store them, checkpoint, report.

Every ingest command (CLI, scheduled job, demo loader) calls `ingest()`. Each batch is written
in one transaction together with the source's checkpoint, so a run stopped at any moment loses
nothing stored and resumes after the last stored batch. One bad record is reported and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from paperfeed.errors import BadRecord, PaperfeedError
from paperfeed.ingest.merge import check_paper, merge_paper
from paperfeed.ingest.sources import Source
from paperfeed.interrupts import interrupts_deferred
from paperfeed.models import Batch, IngestReport, RecordFailure, UpsertCounts
from paperfeed.storage import ingest_runs, papers, signals
from paperfeed.storage.db import writing

log = logging.getLogger(__name__)

# The report keeps this many failures in memory for display; all are counted and stored.
MAX_FAILURES_IN_REPORT = 100
STOPPED = "interrupted; run again to resume"


@dataclass(slots=True, frozen=True)
class Progress:
    """Where a run is, for progress bars: records handled so far of an estimated total."""

    records: int
    total: int | None
    report: IngestReport

    def postfix(self) -> dict[str, int]:
        return {
            "new": self.report.new,
            "updated": self.report.updated,
            "failed": self.report.failed,
        }


def now_utc() -> datetime:
    return datetime.now(UTC)


def ingest(
    source: Source,
    engine: sa.Engine,
    *,
    params: dict | None = None,
    clock: Callable[[], datetime] = now_utc,
    on_progress: Callable[[Progress], None] | None = None,
    restart: bool = False,
) -> IngestReport:
    """Run `source` to the end (or its first fatal error) and return the report.

    `restart` forgets the source's checkpoint first, so the run starts from the beginning
    (an incremental source then starts from its own defaults).
    """
    key = source.checkpoint_key()
    run_id = None
    try:
        with interrupts_deferred(), writing(engine) as conn:
            started = clock()
            ingest_runs.close_dead_runs(conn, started)
            run_id = ingest_runs.start_run(conn, source.name, key, params or {}, started)
            if key and restart:
                ingest_runs.clear_checkpoint(conn, key)
            checkpoint = ingest_runs.load_checkpoint(conn, key) if key else None
    except KeyboardInterrupt:
        if run_id is not None:  # the stop was held until the run's row was committed
            stopped = IngestReport(run_id, source.name, status="interrupted", error=STOPPED)
            _record_outcome(engine, stopped, clock)
        raise
    report = IngestReport(run_id=run_id, source=source.name)
    if checkpoint:
        log.info("resuming source=%s checkpoint=%s", source.name, checkpoint)
    try:
        for batch in source.batches(checkpoint):
            _store_batch(engine, source, key, batch, report, clock)
            if batch.note:
                report.notes.append(batch.note)
            if on_progress:
                done = batch.progress_done if batch.progress_done is not None else report.records
                on_progress(Progress(done, batch.progress_total, report))
        report.status = "done"
        if key and not getattr(source, "incremental", False):
            with interrupts_deferred(), writing(engine) as conn:
                ingest_runs.clear_checkpoint(conn, key)
    except PaperfeedError as exc:
        report.status, report.error = "failed", str(exc)
        log.error("ingest failed source=%s error=%s", source.name, exc)
    except KeyboardInterrupt:
        report.status, report.error = "interrupted", STOPPED
        raise
    except Exception as exc:
        report.status, report.error = "failed", f"internal error: {exc!r}"
        raise
    finally:
        _record_outcome(engine, report, clock)
    return report


def _record_outcome(engine: sa.Engine, report: IngestReport, clock: Callable[[], datetime]) -> None:
    # Best effort (the database may be what failed): the batches and checkpoints are safe
    # either way, and the run's own error matters more than its bookkeeping row. Ctrl-C is
    # held while a batch is written, so an interruption finds the connection free to write.
    try:
        with interrupts_deferred(), writing(engine) as conn:
            ingest_runs.finish_run(conn, report, clock())
    except Exception as exc:  # noqa: BLE001
        log.warning("could not record the run's outcome run_id=%s error=%s", report.run_id, exc)


def _store_batch(
    engine: sa.Engine,
    source: Source,
    key: str | None,
    batch: Batch,
    report: IngestReport,
    clock: Callable[[], datetime],
) -> None:
    failures = list(batch.failures)
    with interrupts_deferred(), writing(engine) as conn:
        # Stamped once the writers' lock is held, so the stamps the search indexes and the
        # embedding runs catch up from are at most one batch older than the commit.
        now = clock()
        counts, known_ids = _upsert(conn, batch, failures, now)
        missing = {s.paper_id for s in batch.signals} - known_ids
        if missing:
            known_ids |= set(papers.get_stored(conn, missing))
        readings = [s for s in batch.signals if s.paper_id in known_ids]
        for paper_id in sorted({s.paper_id for s in batch.signals} - known_ids):
            failures.append(RecordFailure(source.name, paper_id, "signal for an unknown paper"))
        stored_signals = signals.insert_signals(conn, readings)
        ingest_runs.record_failures(conn, report.run_id, failures, report.failed)
        if key and batch.checkpoint is not None:
            ingest_runs.save_checkpoint(conn, key, batch.checkpoint, now)
        progress = {
            "new": counts.new,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "failed": len(failures),
            "signals": stored_signals,
        }
        ingest_runs.add_progress(conn, report.run_id, progress, now)
    report.new += counts.new
    report.updated += counts.updated
    report.unchanged += counts.unchanged
    report.failed += len(failures)
    report.signals += stored_signals
    room = MAX_FAILURES_IN_REPORT - len(report.failures)
    report.failures.extend(failures[: max(room, 0)])
    # Skipped records are in the report and in ingest_failures; the log is for tracing.
    for failure in failures:
        log.info(
            "record skipped source=%s position=%s reason=%s",
            failure.source,
            failure.position,
            failure.reason,
        )


def _upsert(
    conn: sa.Connection, batch: Batch, failures: list[RecordFailure], now: datetime
) -> tuple[UpsertCounts, set[str]]:
    counts = UpsertCounts()
    valid = []
    for index, paper in enumerate(batch.papers):
        try:
            check_paper(paper)
        except BadRecord as exc:
            failures.append(RecordFailure(paper.source, paper.id or f"record {index}", str(exc)))
            continue
        valid.append(paper)
    stored = papers.get_stored(conn, (p.id for p in valid))
    working = dict(stored)
    for paper in valid:
        is_new = paper.id not in working
        merged, changed = merge_paper(working.get(paper.id), paper, now)
        working[paper.id] = merged
        if is_new:
            counts.new += 1
        elif changed:
            counts.updated += 1
        else:
            counts.unchanged += 1
    to_insert = [working[i] for i in working if i not in stored]
    to_update = [working[i] for i in working if i in stored and working[i] is not stored[i]]
    papers.insert_papers(conn, to_insert)
    papers.update_papers(conn, to_update)
    return counts, set(working)
