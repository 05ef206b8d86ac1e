"""Ingest bookkeeping: one row per run with its counts, the failed records, and checkpoints.

A checkpoint is saved in the same transaction as the batch it follows, so a run that stops at
any moment resumes exactly after the last batch that was stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson
import sqlalchemy as sa

from paperfeed.models import IngestReport, RecordFailure
from paperfeed.storage.dialect import upsert
from paperfeed.storage.tables import UtcDateTime, checkpoints, ingest_failures, ingest_runs

# A failure log is for reading, not a dump: keep the first ones of a very bad file.
MAX_FAILURES_STORED_PER_RUN = 10_000


def start_run(
    conn: sa.Connection, source: str, checkpoint_key: str | None, params: dict, now: datetime
) -> int:
    result = conn.execute(
        ingest_runs.insert().values(
            source=source,
            checkpoint_key=checkpoint_key,
            params=orjson.dumps(params, default=str).decode(),
            status="running",
            started_at=now,
        )
    )
    return result.inserted_primary_key[0]


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


def load_checkpoint(conn: sa.Connection, key: str) -> dict | None:
    row = conn.execute(sa.select(checkpoints.c.state).where(checkpoints.c.key == key)).first()
    return orjson.loads(row[0]) if row else None


def save_checkpoint(conn: sa.Connection, key: str, state: dict, now: datetime) -> None:
    values = {"key": key, "state": orjson.dumps(state, default=str).decode(), "updated_at": now}
    upsert(conn, checkpoints, "key", values)


def clear_checkpoint(conn: sa.Connection, key: str) -> None:
    conn.execute(checkpoints.delete().where(checkpoints.c.key == key))


def recent_runs(conn: sa.Connection, limit: int = 10) -> list[dict]:
    query = sa.select(ingest_runs).order_by(ingest_runs.c.id.desc()).limit(limit)
    runs = []
    for row in conn.execute(query).mappings():
        run = dict(row)
        run["params"] = orjson.loads(run["params"])
        runs.append(run)
    return runs


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
