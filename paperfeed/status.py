"""`paperfeed status`: what the workers did and what is left, read from the database.

For an operator with several workers on several machines: the daily jobs of yesterday and today
(UTC) with who ran them and how they ended, the two newest editions' deliveries by state, and the
papers still waiting for a vector. Only reads, so it is safe beside running workers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from paperfeed.services import Services
from paperfeed.storage import deliveries, embeddings, jobs

JOBS = ("ingest", "index", "snapshot")  # in the order a worker runs them


def status(services: Services, now: datetime, today: date | None = None) -> dict:
    """The report as of `now`, for the UTC day `today` (by default now's)."""
    today = today or now.astimezone(UTC).date()
    model = services.settings.embedding_model
    with services.engine.connect() as conn:
        daily = [
            _job(name, day, jobs.state(conn, name, day), now)
            for day in (today - timedelta(days=1), today)
            for name in JOBS
        ]
        editions = [
            {"day": day.isoformat(), "deliveries": deliveries.counts(conn, day)}
            for day in (today - timedelta(days=2), today - timedelta(days=1))
        ]
        start = embeddings.scan_start(conn, model)
        waiting = embeddings.count_candidates(conn, model, changed_after=start)
    return {
        "now": now.isoformat(),
        "day": today.isoformat(),
        "jobs": daily,
        "editions": editions,
        "embeddings": {"model": model, "waiting": waiting},
    }


def problems(report: dict) -> list[str]:
    """What needs a person: failed or abandoned jobs, failed digests (retries and bounces do
    not; they take care of themselves)."""
    found = [
        f"{job['job']} of {job['day']} {job['status']}: {job.get('note') or ''}".rstrip(": ")
        for job in report["jobs"]
        if job["status"] in ("failed", "abandoned")
    ]
    for edition in report["editions"]:
        failed = edition["deliveries"].get("failed", 0)
        if failed:
            found.append(f"{failed} digest(s) of {edition['day']} failed")
    return found


def _job(name: str, day: date, row: dict | None, now: datetime) -> dict:
    if row is None:
        return {"job": name, "day": day.isoformat(), "status": "not run"}
    status = row["status"]
    if status == "running" and row["lease_until"] <= now:
        # Its worker died or stopped: the next worker to tick takes it over.
        status = "abandoned"
    return {
        "job": name,
        "day": day.isoformat(),
        "status": status,
        "worker": row["claimed_by"],
        "lease_until": _iso(row["lease_until"]),
        "finished_at": _iso(row["finished_at"]),
        "note": row["note"],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
