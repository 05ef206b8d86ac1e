"""`paperfeed worker`: the morning routine, and each subscriber's digest at their own hour.

Every tick (30 s) a worker:
1. once a day, from `worker_ingest_hour` UTC: runs the ingest commands of `worker_ingest`
   (each as `paperfeed ingest …` in its own process, so one failing source stops nothing else),
   then embeds the new papers (`paperfeed index`) and freezes yesterday's trending lists — each
   job claimed in the database with a lease renewed while it runs, so with several workers it
   runs once, and a dead worker's job is taken over when its lease ends;
2. sends the newest edition (yesterday, UTC) to subscribers whose moment has come: the first
   time their clock shows `send_hour` after the edition closed at midnight UTC; and retries
   whose backoff has passed. A moment missed by up to `LATE_GRACE` (a worker down across
   midnight UTC) is still honoured with the edition before; older ones are dropped, because a
   stale digest helps nobody;
3. sends the mail that web requests queued and the web process could not send (mail/outbox.py).
Any number of workers can run, on any machines: deliveries and jobs are claimed with leases.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

from paperfeed.digest.send import SendSummary, is_due, send_edition, worker_name
from paperfeed.mail import outbox
from paperfeed.services import Services
from paperfeed.storage import embeddings, jobs
from paperfeed.storage import subscribers as store
from paperfeed.storage.db import writing
from paperfeed.trending.score import WINDOWS

log = logging.getLogger(__name__)

TICK_S = 30.0
JOB_LEASE = timedelta(minutes=10)  # renewed while the job runs
RETRY_FAILED_JOB = timedelta(hours=1)  # a failed ingest is tried again, but not every tick
LATE_GRACE = timedelta(hours=6)
INGEST_TIMEOUT_S = 3 * 3600
INDEX_TIMEOUT_S = 3 * 3600
CHILD_POLL_S = 1.0  # how soon a running job's process notices the worker stopping
CHILD_STOP_GRACE_S = 60.0  # for a stopped job's process to commit its batch and exit


def send_moment(edition: date, send_hour: int, zone: str) -> datetime:
    """When a subscriber gets an edition: the first `send_hour` on their clock after the
    edition's day ended (midnight UTC)."""
    closed = datetime.combine(edition + timedelta(days=1), time(), UTC)
    tz = ZoneInfo(zone)
    local = closed.astimezone(tz)
    moment = datetime.combine(local.date(), time(send_hour), tz)
    if moment < local:
        moment = datetime.combine(local.date() + timedelta(days=1), time(send_hour), tz)
    return moment.astimezone(UTC)


def due_editions(services: Services, now: datetime) -> list[tuple[date, list[int]]]:
    """The editions to send now, oldest first, each with the subscribers whose moment has come:
    the newest complete edition, and the one before for moments missed by at most LATE_GRACE.
    (The ledger makes sending an edition twice to anyone impossible.)"""
    newest = now.astimezone(UTC).date() - timedelta(days=1)
    with services.engine.connect() as conn:
        subscribers = store.deliverable(conn)
    editions = []
    for edition in (newest - timedelta(days=1), newest):
        due = []
        for s in subscribers:
            if not is_due(s, edition):
                continue
            moment = send_moment(edition, s["send_hour"], s["time_zone"])
            late = edition != newest and now - moment > LATE_GRACE
            if now >= moment and not late:
                due.append(s["id"])
        editions.append((edition, due))
    return editions


class JobStopped(Exception):
    """The worker is stopping: its job is handed back unfinished, not failed."""


def _stop(process: subprocess.Popen) -> tuple[str, str]:
    """SIGTERM (an ingest records where it stopped), SIGKILL if it does not end in time."""
    process.terminate()
    try:
        return process.communicate(timeout=CHILD_STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


class Worker:
    def __init__(
        self, services: Services, *, name: str | None = None, config_file: str | None = None
    ) -> None:
        self.services = services
        self.name = name or worker_name()
        self.stopping = threading.Event()
        # Jobs run `paperfeed …` with this worker's home, database and config file, passed in
        # the environment: a command line (and the password in a database URL) is public.
        settings = services.settings
        self.child_env = os.environ | {
            "PAPERFEED_HOME": str(settings.home),
            "PAPERFEED_DATABASE_URL": settings.database_url,
        }
        if config_file:
            self.child_env["PAPERFEED_CONFIG"] = str(config_file)

    def run(self, *, once: bool = False) -> None:
        log.info("worker started name=%s", self.name)
        while not self.stopping.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("worker tick failed")
            if once:
                break
            self.stopping.wait(TICK_S)
        log.info("worker stopped name=%s", self.name)

    def tick(self) -> list[SendSummary]:
        now = self.services.clock()
        settings = self.services.settings
        if now.astimezone(UTC).hour >= settings.worker_ingest_hour:
            self.daily_jobs(now.astimezone(UTC).date())
        sender = self.services.digest_sender()
        sender.worker = self.name
        sender.should_stop = self.stopping.is_set
        summaries = []
        for edition, due in due_editions(self.services, now):
            summary = send_edition(self.services.engine, sender, edition, subscriber_ids=due)
            if summary.sent or summary.failed or summary.bounced:
                log.info("digests %s", summary.as_dict())
            summaries.append(summary)
        self.drain_outbox()
        return summaries

    def drain_outbox(self) -> None:
        services = self.services
        drained = outbox.Drained(more=True)
        while drained.more and not self.stopping.is_set():
            drained = outbox.deliver(
                services.engine, services.mail_backend(), services.clock, worker=self.name
            )
            if drained.sent or drained.retried or drained.failed:
                log.info(
                    "queued mail sent=%d retried=%d failed=%d",
                    drained.sent,
                    drained.retried,
                    drained.failed,
                )

    def daily_jobs(self, today: date) -> None:
        """Ingest, then (whatever the ingest's outcome) embed what is new and freeze
        yesterday's trending; each step claimed, so each runs once across all workers."""
        self.run_job("ingest", today, self._ingest)
        ingest = self._state("ingest", today)
        if not ingest or ingest["status"] not in ("done", "failed"):
            return
        self.run_job("index", today, self._index)
        if self.stopping.is_set():
            return
        self.run_job("snapshot", today, lambda: self._snapshot(today - timedelta(days=1)))

    def run_job(self, job: str, day: date, work: Callable[[], tuple[bool, str]]) -> bool:
        """Claim the (job, day) and run `work`, renewing the lease while it runs: a live worker
        keeps its job however long it takes, a dead one loses it within JOB_LEASE. False,
        without running anything, when another worker holds it or it is already done."""
        if not self._claim(job, day):
            return False
        done = threading.Event()

        def renew() -> None:
            while not done.wait(JOB_LEASE.total_seconds() / 3):
                now = self.services.clock()
                with writing(self.services.engine, row_locks=True) as conn:
                    jobs.renew(conn, job, day, self.name, now + JOB_LEASE)

        heartbeat = threading.Thread(target=renew, name=f"lease-{job}", daemon=True)
        heartbeat.start()
        stopped = None
        try:
            ok, note = work()
        except JobStopped as exc:
            stopped = exc
        except Exception as exc:
            log.exception("job failed job=%s", job)
            ok, note = False, f"{type(exc).__name__}: {exc}"
        finally:
            done.set()
            heartbeat.join()
        if stopped is not None:
            with writing(self.services.engine, row_locks=True) as conn:
                jobs.release(conn, job, day, self.name, self.services.clock(), str(stopped))
            log.info("job handed back job=%s note=%s", job, stopped)
            return True
        self._finish(job, day, ok, note)
        return True

    def _ingest(self) -> tuple[bool, str]:
        commands = [c.strip() for c in self.services.settings.worker_ingest.split(";")]
        results = [
            self._paperfeed(["ingest", *shlex.split(c)], INGEST_TIMEOUT_S)
            for c in filter(None, commands)
        ]
        if not results:
            return True, "nothing to ingest (worker_ingest is empty)"
        return all(ok for ok, _ in results), "; ".join(note for _, note in results)

    def _index(self) -> tuple[bool, str]:
        """Embed the papers that have no vector for the configured model yet (into the
        database, for every node's index)."""
        settings = self.services.settings
        if not settings.worker_index:
            return True, "off (worker_index is false)"
        with self.services.engine.connect() as conn:
            model = settings.embedding_model
            start = embeddings.scan_start(conn, model)
            waiting = embeddings.count_candidates(conn, model, changed_after=start)
        if not waiting:
            return True, f"nothing to embed for {settings.embedding_model}"
        return self._paperfeed(["index"], INDEX_TIMEOUT_S)

    def _paperfeed(self, args: list[str], timeout_s: float) -> tuple[bool, str]:
        """`paperfeed <args>` in its own process, with this worker's home, database and config.

        When the worker is asked to stop, the child gets SIGTERM too (a supervisor may signal
        only the worker): an ingest then records its run as interrupted, and the job is handed
        back for the next worker (or this one, restarted) to resume."""
        command = " ".join(args)
        if self.stopping.is_set():
            raise JobStopped(f"{command}: not started, worker {self.name} is stopping")
        process = subprocess.Popen(
            [sys.executable, "-m", "paperfeed", *args],
            env=self.child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # Its own session: a terminal's Ctrl-C reaches the worker alone, which stops it.
            start_new_session=True,
        )
        deadline = monotonic() + timeout_s
        while True:
            try:
                out, err = process.communicate(timeout=CHILD_POLL_S)
                break
            except subprocess.TimeoutExpired:
                if self.stopping.is_set():
                    out, err = _stop(process)
                    if process.returncode == 0:
                        break  # it finished while being stopped: its result stands
                    raise JobStopped(f"{command}: stopped with worker {self.name}") from None
                if monotonic() > deadline:
                    process.kill()
                    process.communicate()
                    return False, f"{command}: timed out after {timeout_s:.0f} s"
        last = (out.strip() or err.strip()).splitlines()[-1:] or [""]
        log.info("paperfeed %s exit=%s", command, process.returncode)
        return process.returncode == 0, f"{command}: exit {process.returncode} {last[0][:200]}"

    def _snapshot(self, day: date) -> tuple[bool, str]:
        for window in WINDOWS:
            self.services.trending(window=window, day=day, limit=100)
        return True, f"trending of {day} frozen"

    def _claim(self, job: str, day: date) -> bool:
        now = self.services.clock()
        with self.services.engine.connect() as conn:
            if not jobs.could_claim(conn, job, day, now, retry_failed=RETRY_FAILED_JOB):
                return False
        with writing(self.services.engine, row_locks=True) as conn:
            return jobs.claim(
                conn, job, day, self.name, now, now + JOB_LEASE, retry_failed=RETRY_FAILED_JOB
            )

    def _finish(self, job: str, day: date, ok: bool, note: str) -> None:
        with writing(self.services.engine, row_locks=True) as conn:
            jobs.finish(conn, job, day, self.name, self.services.clock(), ok, note)

    def _state(self, job: str, day: date) -> dict | None:
        with self.services.engine.connect() as conn:
            return jobs.state(conn, job, day)
