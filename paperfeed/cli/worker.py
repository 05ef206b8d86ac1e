"""`paperfeed worker`: run the scheduled jobs and send digests until stopped."""

from __future__ import annotations

import json
import signal

import click


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one round of jobs and sends, then exit.")
@click.pass_obj
def worker_command(app, once) -> None:
    """Morning ingest and trending snapshot, and each subscriber's digest at their hour.

    Run as many as you like, on any machines sharing the database: every job and every
    delivery is claimed, so each runs once. SIGTERM or Ctrl-C stops after the current message.
    """
    from paperfeed.worker import Worker

    worker = Worker(app.services(), config_file=app.config_file)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stopping.set())
    click.echo(f"worker {worker.name} running; stop with Ctrl-C", err=True)
    worker.run(once=once)


@click.command("status")
@click.option(
    "--day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Report as of this UTC day instead of today.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Exit with 1 when a job failed or was abandoned, or a digest failed (for monitoring).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def status_command(app, day, check, as_json) -> None:
    """What the workers did and what is left: yesterday's and today's jobs and ingest runs
    (UTC), the two newest editions' deliveries, the queued mail (sign-in links,
    confirmations), and the papers waiting for a vector. With --check, exit 1 and name each
    problem: a failed job, a failed or killed ingest, no successful ingest on either day, a
    failed digest, mail queued for 15 minutes or more."""
    from paperfeed.status import problems, status

    services = app.services()
    report = status(services, services.clock(), day.date() if day else None)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        _print_status(report)
    if check and problems(report):
        for problem in problems(report):
            click.echo(f"problem: {problem}", err=True)
        raise SystemExit(1)


def _print_status(report: dict) -> None:
    click.echo("daily jobs (UTC):")
    for job in report["jobs"]:
        line = f"  {job['day']}  {job['job']:<9} {job['status']:<10}"
        if job.get("worker"):
            line += f" by {job['worker']}"
        if job.get("finished_at") and job["status"] in ("done", "failed"):
            line += f" at {job['finished_at'][11:16]}"
        click.echo(line.rstrip())
        if job.get("note"):
            click.echo(f"      {job['note'][:200]}")
    click.echo("ingest runs:")
    for run in report["ingest_runs"]:
        click.echo(
            f"  #{run['id']} {run['source']:<12} {run['status']:<11} started "
            f"{run['started_at'][:16].replace('T', ' ')}  new {run['new']:,}, "
            f"updated {run['updated']:,}, failed {run['failed']:,}"
        )
        if run["error"] and run["status"] != "done":
            click.echo(f"      {run['error'][:200]}")
    if not report["ingest_runs"]:
        click.echo("  none on these two days")
    click.echo("editions:")
    for edition in report["editions"]:
        counts = edition["deliveries"]
        told = ", ".join(f"{state} {n:,}" for state, n in sorted(counts.items()))
        click.echo(f"  {edition['day']}  {told or 'nothing recorded yet'}")
    queued = report["outbox"]
    finished = ", ".join(f"{state} {n:,}" for state, n in sorted(queued["finished"].items()))
    line = f"queued mail: {queued['open']:,} waiting"
    if queued["open"]:
        line += f" (the oldest for {queued['oldest_open_minutes']} min)"
    click.echo(f"{line}; last 24 h: {finished or 'none'}")
    if queued["open"] and queued["last_problem"]:
        click.echo(f"      {queued['last_problem'][:200]}")
    waiting = report["embeddings"]
    click.echo(f"papers waiting for a vector ({waiting['model']}): {waiting['waiting']:,}")
