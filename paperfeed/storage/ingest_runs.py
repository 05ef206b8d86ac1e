"""Ingest bookkeeping: one row per run with its counts, the failed records, and checkpoints.

A checkpoint is saved in the same transaction as the batch it follows, so a run that stops at
any moment resumes exactly after the last batch that was stored.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa

from paperfeed.models import IngestReport, RecordFailure
from paperfeed.storage.dialect import upsert
from paperfeed.storage.tables import UtcDateTime, checkpoints, ingest_failures, ingest_runs

# A failure log is for reading, not a dump: keep the first ones of a very bad file.
MAX_FAILURES_STORED_PER_RUN = 10_000


# A run that stored no batch for this long, on another machine, is taken to be dead. (On this
# machine the process id says so at once.)
SILENT_FOR = timedelta(hours=1)
KILLED = "stopped without finishing (its process is gone: killed, or the machine went down)"
COUNTS = ("new", "updated", "unchanged", "failed", "signals")


def this_process() -> str:
    return f"{socket.gethostname()[:150]} {os.getpid()}"


def start_run(
    conn: sa.Connection,
    source: str,
    checkpoint_key: str | None,
    params: dict[str, Any],
    now: datetime,
) -> int:
    run_id: int = conn.execute(
        ingest_runs.insert()
        .values(
            source=source,
            checkpoint_key=checkpoint_key,
            params=orjson.dumps(params, default=str).decode(),
            status="running",
            started_at=now,
            owner=this_process(),
            heartbeat_at=now,
        )
        .returning(ingest_runs.c.id)
    ).scalar_one()
    return run_id


def add_progress(conn: sa.Connection, run_id: int, counts: dict[str, int], now: datetime) -> None:
    """Add one stored batch's counts to its run, in the batch's own transaction: a run that is
    killed keeps the true counts of what it stored."""
    values = {name: ingest_runs.c[name] + counts.get(name, 0) for name in COUNTS}
    conn.execute(
        ingest_runs.update().where(ingest_runs.c.id == run_id).values(heartbeat_at=now, **values)
    )


def is_gone(run: dict[str, Any], now: datetime) -> bool:
    """Whether a run marked running has no process behind it any more."""
    if run["status"] != "running":
        return False
    host, _, pid = (run.get("owner") or "").rpartition(" ")
    if host == socket.gethostname()[:150] and pid.isdigit():
        return not _process_alive(int(pid))
    heartbeat: datetime = run.get("heartbeat_at") or run["started_at"]
    return now - heartbeat > SILENT_FOR


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def close_dead_runs(conn: sa.Connection, now: datetime) -> int:
    """Record runs whose process is gone as interrupted, with the counts they stored."""
    query = sa.select(ingest_runs).where(ingest_runs.c.status == "running")
    dead = [dict(r) for r in conn.execute(query).mappings() if is_gone(dict(r), now)]
    for run in dead:
        conn.execute(
            ingest_runs.update()
            .where(ingest_runs.c.id == run["id"], ingest_runs.c.status == "running")
            .values(
                status="interrupted",
                finished_at=run["heartbeat_at"] or run["started_at"],
                error=KILLED,
            )
        )
    return len(dead)


def finish_run(conn: sa.Connection, report: IngestReport, now: datetime) -> None:
    conn.execute(
        ingest_runs.update()
        .where(ingest_runs.c.id == report.run_id)
        .values(
            status=report.status,
            finished_at=now,
            new=report.new,
            updated=report.updated,
            unchanged=report.unchanged,
            failed=report.failed,
            signals=report.signals,
            error=report.error,
        )
    )


def record_failures(
    conn: sa.Connection, run_id: int, failures: Sequence[RecordFailure], already: int
) -> None:
    room = MAX_FAILURES_STORED_PER_RUN - already
    if room <= 0 or not failures:
        return
    conn.execute(
        ingest_failures.insert(),
        [
            {
                "run_id": run_id,
                "source": f.source,
                # The position and reason may quote the bad input; PostgreSQL refuses NUL.
                "position": f.position.replace("\x00", "\\0")[:1000],
                "reason": f.reason.replace("\x00", "\\0")[:1000],
            }
            for f in failures[:room]
        ],
    )


def load_checkpoint(conn: sa.Connection, key: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(checkpoints.c.state).where(checkpoints.c.key == key)).first()
    return orjson.loads(row[0]) if row else None


def save_checkpoint(conn: sa.Connection, key: str, state: dict[str, Any], now: datetime) -> None:
    values = {"key": key, "state": orjson.dumps(state, default=str).decode(), "updated_at": now}
    upsert(conn, checkpoints, "key", values)


def clear_checkpoint(conn: sa.Connection, key: str) -> None:
    conn.execute(checkpoints.delete().where(checkpoints.c.key == key))


def recent_runs(
    conn: sa.Connection, limit: int = 10, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The newest runs first; one still "running" whose process is gone reads "interrupted"."""
    query = sa.select(ingest_runs).order_by(ingest_runs.c.id.desc()).limit(limit)
    return [_as_run(row, now or datetime.now(UTC)) for row in conn.execute(query).mappings()]


def runs_between(
    conn: sa.Connection, start: datetime, end: datetime, now: datetime
) -> list[dict[str, Any]]:
    """Runs that started in [start, end), oldest first, read as recent_runs reads them."""
    query = (
        sa.select(ingest_runs)
        .where(ingest_runs.c.started_at >= start, ingest_runs.c.started_at < end)
        .order_by(ingest_runs.c.id)
    )
    return [_as_run(row, now) for row in conn.execute(query).mappings()]


def _as_run(row: sa.RowMapping, now: datetime) -> dict[str, Any]:
    run = dict(row)
    run["params"] = orjson.loads(run["params"])
    if is_gone(run, now):
        run["status"], run["error"] = "interrupted", KILLED
        run["finished_at"] = run["heartbeat_at"] or run["started_at"]
    return run


def failures_of(conn: sa.Connection, run_id: int) -> list[RecordFailure]:
    query = (
        sa.select(ingest_failures)
        .where(ingest_failures.c.run_id == run_id)
        .order_by(ingest_failures.c.id)
    )
    return [RecordFailure(r.source, r.position, r.reason) for r in conn.execute(query)]


def last_success_at(conn: sa.Connection, before: datetime) -> datetime | None:
    """When the newest ingest run that ended well (before `before`) finished."""
    query = sa.select(sa.func.max(ingest_runs.c.finished_at, type_=UtcDateTime())).where(
        ingest_runs.c.status == "done", ingest_runs.c.finished_at < before
    )
    return conn.execute(query).scalar()
