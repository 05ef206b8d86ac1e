"""`paperfeed worker`: run the scheduled jobs and send digests until stopped."""

from __future__ import annotations

import signal

import click


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one round of jobs and sends, then exit.")
@click.pass_obj
def worker_command(app, once) -> None:  # noqa: ANN001
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
