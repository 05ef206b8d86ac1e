"""`paperfeed status`: what the workers did and what is left, read from the database.

For an operator with several workers on several machines: the daily jobs of yesterday and today
(UTC) with who ran them and how they ended, the ingest runs of those two days (a run whose
process is gone reads "interrupted", with what it stored), the two newest editions' deliveries
by state, the mail requests queued (the outbox), and the papers still waiting for a vector.
Only reads, so it is safe beside running workers. `problems` is what `status --check` fails on:
a failed job, a failed or killed ingest not since made good, two days without a successful
ingest, a failed digest, queued mail that has waited longer than STUCK_MAIL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from paperfeed.services import Services
from paperfeed.storage import deliveries, embeddings, ingest_runs, jobs, outbox

JOBS = ("ingest", "index", "snapshot")  # in the order a worker runs them
# Queued mail normally leaves within seconds; this long means the mail server is down or
# refuses paperfeed's setup, and visitors are waiting for sign-in links.
STUCK_MAIL = timedelta(minutes=15)


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
        first_day = datetime.combine(today - timedelta(days=1), time(), UTC)
        runs = ingest_runs.runs_between(conn, first_day, first_day + timedelta(days=2), now)
        ever = bool(ingest_runs.recent_runs(conn, 1, now=now))
        queued = outbox.summary(conn, since=now - timedelta(days=1))
    oldest = queued.pop("oldest_open_at")
    queued["oldest_open_minutes"] = int((now - oldest).total_seconds() // 60) if oldest else None
    return {
        "now": now.isoformat(),
        "day": today.isoformat(),
        "jobs": daily,
        "ingest_runs": [_run(run) for run in runs],
        "ingests_ever": ever,
        "editions": editions,
        "outbox": queued,
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
    runs = report["ingest_runs"]
    for index, run in enumerate(runs):
        # A failed or killed run is a problem until a later run of the same source succeeds.
        recovered = any(
            later["source"] == run["source"] and later["status"] == "done"
            for later in runs[index + 1 :]
        )
        if run["status"] in ("failed", "interrupted") and not recovered:
            found.append(
                f"ingest run {run['id']} ({run['source']}) {run['status']} after storing "
                f"{run['new']} new papers: {run['error'] or 'no reason given'}"
            )
    if report["ingests_ever"] and not any(run["status"] == "done" for run in runs):
        yesterday = date.fromisoformat(report["day"]) - timedelta(days=1)
        found.append(
            f"no ingest succeeded on {yesterday} or {report['day']}: digests will be missing papers"
        )
    for edition in report["editions"]:
        failed = edition["deliveries"].get("failed", 0)
        if failed:
            found.append(f"{failed} digest(s) of {edition['day']} failed")
    queued = report["outbox"]
    if queued["open"] and queued["oldest_open_minutes"] >= STUCK_MAIL.total_seconds() // 60:
        found.append(
            f"{queued['open']} queued mail(s) waiting for {queued['oldest_open_minutes']} minutes"
            f": {queued['last_problem'] or 'no drainer is running'}"
        )
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


def _run(run: dict) -> dict:
    return {
        "id": run["id"],
        "source": run["source"],
        "status": run["status"],
        "started_at": _iso(run["started_at"]),
        "finished_at": _iso(run["finished_at"]),
        "new": run["new"],
        "updated": run["updated"],
        "failed": run["failed"],
        "error": run["error"],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
