"""`paperfeed worker` on a moving clock: each subscriber's digest at their own hour in their own
time zone, a missed moment caught up within the grace, and the daily jobs run once by one of
several workers (ingest as a real `paperfeed ingest` process)."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import threading
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from paperfeed import worker as worker_module
from paperfeed.config import load_settings
from paperfeed.status import status
from paperfeed.storage import embeddings, jobs
from paperfeed.storage.db import writing
from paperfeed.storage.tables import papers as papers_table
from paperfeed.worker import Worker, send_moment
from tests.subscriptions.conftest import DAY, add_subscriber
from tests.subscriptions.test_send import received
from tests.support.live import run_cli


@pytest.fixture
def worker_ingest() -> str:
    return ""


@pytest.fixture
def settings(tmp_path, database_url, smtp_server, worker_ingest, test_data):
    return load_settings(
        {
            "home": str(tmp_path / "home"),
            "database_url": database_url,
            "mail_url": smtp_server.url,
            "public_url": "https://papers.example.org",
            "worker_ingest": worker_ingest.format(
                papers=test_data / "search" / "papers.jsonl", corpus=tmp_path / "corpus.jsonl"
            ),
            "worker_ingest_hour": 1,
            # Embedding runs a model in a process of its own: only where a test is about it.
            "worker_index": "{papers}" in worker_ingest,
            "digest_skip_quiet_days": False,  # the day after DAY has no new papers
        },
        environ={},
    )


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("edition", "hour", "zone", "expected"),
    [
        (date(2026, 3, 2), 7, "UTC", "2026-03-03T07:00"),
        (date(2026, 3, 2), 0, "UTC", "2026-03-03T00:00"),
        # West of UTC the edition closes in the evening: the next morning.
        (date(2026, 3, 2), 7, "America/New_York", "2026-03-03T12:00"),
        # East of UTC it closes after 07:00 local: the morning after.
        (date(2026, 3, 2), 7, "Asia/Tokyo", "2026-03-03T22:00"),
        (date(2026, 3, 2), 9, "Asia/Tokyo", "2026-03-03T00:00"),
        # Across the switch to summer time (29 March 2026 in Europe), the hour stays local.
        (date(2026, 3, 28), 7, "Europe/Berlin", "2026-03-29T05:00"),
        (date(2026, 3, 27), 7, "Europe/Berlin", "2026-03-28T06:00"),
    ],
)
def test_the_send_moment_is_the_first_local_hour_after_the_edition_closed(
    edition, hour, zone, expected
):
    moment = send_moment(edition, hour, zone)
    assert moment.strftime("%Y-%m-%dT%H:%M") == expected
    assert moment.astimezone(ZoneInfo(zone)).hour == hour
    assert timedelta(0) <= moment - utc(edition + timedelta(days=1), 0) < timedelta(days=1)


def test_each_subscriber_gets_the_edition_at_their_own_hour(day_of_papers, smtp_server):
    services = day_of_papers
    add_subscriber(services, "london@example.org", send_hour=7, time_zone="Europe/London")
    add_subscriber(services, "newyork@example.org", send_hour=7, time_zone="America/New_York")
    add_subscriber(services, "tokyo@example.org", send_hour=7, time_zone="Asia/Tokyo")
    add_subscriber(services, "weekly@example.org", frequency="weekly")  # DAY is a Monday
    clock = Clock(utc(DAY + timedelta(days=1), 6, 59))
    services.clock = clock
    worker = Worker(services, name="worker-a")
    timeline = {}
    for hour, minute in [(6, 59), (7, 0), (11, 59), (12, 0), (21, 59), (22, 0), (23, 30)]:
        clock.now = utc(DAY + timedelta(days=1), hour, minute)
        worker.tick()
        timeline[f"{hour:02}:{minute:02}"] = sorted(received(smtp_server))
    assert timeline == {
        "06:59": [],
        "07:00": ["london@example.org"],
        "11:59": ["london@example.org"],
        "12:00": ["london@example.org", "newyork@example.org"],
        "21:59": ["london@example.org", "newyork@example.org"],
        "22:00": ["london@example.org", "newyork@example.org", "tokyo@example.org"],
        "23:30": ["london@example.org", "newyork@example.org", "tokyo@example.org"],
    }
    assert all(len(mails) == 1 for mails in received(smtp_server).values())
    assert "2 Mar 2026" in received(smtp_server)["tokyo@example.org"][0]["Subject"]


def test_a_moment_missed_while_no_worker_ran_is_caught_up_within_the_grace(
    day_of_papers, smtp_server
):
    services = day_of_papers
    add_subscriber(services, "late@example.org", send_hour=23)
    add_subscriber(services, "stale@example.org", send_hour=12)
    clock = Clock(utc(DAY + timedelta(days=1), 10))
    services.clock = clock
    worker = Worker(services, name="worker-a")
    worker.tick()
    assert received(smtp_server) == {}
    # Down from 10:00 until 02:00 the next day: 23:00 was missed by 3 hours (within the grace),
    # 12:00 by 14 hours (a stale digest is dropped; the next edition comes at 12:00).
    clock.now = utc(DAY + timedelta(days=2), 2)
    worker.tick()
    assert sorted(received(smtp_server)) == ["late@example.org"]
    clock.now = utc(DAY + timedelta(days=2), 12)
    worker.tick()
    subjects = {a: [m["Subject"] for m in mails] for a, mails in received(smtp_server).items()}
    assert len(subjects["late@example.org"]) == len(subjects["stale@example.org"]) == 1
    assert "2 Mar 2026" in subjects["late@example.org"][0]
    assert "3 Mar 2026" in subjects["stale@example.org"][0]


@pytest.mark.parametrize("worker_ingest", ["file {papers}"])
def test_the_daily_jobs_run_once_whichever_worker_gets_there_first(day_of_papers, test_data):
    services = day_of_papers
    papers_file = test_data / "search" / "papers.jsonl"
    expected_new = sum(1 for line in papers_file.read_text().splitlines() if line.strip())
    today = DAY + timedelta(days=1)
    clock = Clock(utc(today, 0, 30))
    services.clock = clock
    workers = [Worker(services, name=f"worker-{n}") for n in "ab"]
    workers[0].tick()
    with services.engine.connect() as conn:
        assert jobs.state(conn, "ingest", today) is None  # before worker_ingest_hour
    clock.now = utc(today, 1, 0)
    workers[0].tick()
    workers[1].tick()
    clock.now = utc(today, 1, 30)
    workers[1].tick()
    with services.engine.connect() as conn:
        ingest_job = jobs.state(conn, "ingest", today)
        snapshot_job = jobs.state(conn, "snapshot", today)
        index_job = jobs.state(conn, "index", today)
        stored = conn.execute(sa.select(sa.func.count()).select_from(papers_table)).scalar()
        embedded = embeddings.model_state(conn, services.settings.embedding_model)[0]
    assert ingest_job["status"] == "done", ingest_job["note"]
    assert ingest_job["claimed_by"] == "worker-a"
    assert "exit 0" in ingest_job["note"]
    assert snapshot_job["status"] == "done"
    assert snapshot_job["claimed_by"] == "worker-a"
    assert index_job["status"] == "done", index_job["note"]
    assert index_job["note"].startswith("index: exit 0")
    assert embedded == stored  # every paper, the day's and the ingested ones, has its vector
    assert f"trending of {DAY}" in snapshot_job["note"]
    assert stored == 8 + expected_new  # the ingest process wrote into this very database


@pytest.mark.parametrize("worker_ingest", ["file does-not-exist.jsonl"])
def test_status_tells_an_operator_what_the_workers_did(day_of_papers, smtp_server):
    services = day_of_papers
    today = DAY + timedelta(days=1)
    add_subscriber(services, "ada@example.org", categories="cs.LG", send_hour="7")
    services.clock = Clock(utc(today, 8))
    Worker(services, name="worker-a").tick()
    settings = services.settings
    env = os.environ | {
        "PAPERFEED_HOME": str(settings.home),
        "PAPERFEED_DATABASE_URL": settings.database_url,
    }
    shown = run_cli("status", "--day", today.isoformat(), "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    jobs_today = {job["job"]: job for job in report["jobs"] if job["day"] == str(today)}
    assert jobs_today["ingest"]["status"] == "failed"
    assert "does-not-exist.jsonl" in jobs_today["ingest"]["note"]
    assert (jobs_today["snapshot"]["status"], jobs_today["snapshot"]["worker"]) == (
        "done",
        "worker-a",
    )
    assert jobs_today["index"]["note"].startswith("off")  # worker_index is off here
    assert {job["status"] for job in report["jobs"] if job["day"] == str(DAY)} == {"not run"}
    editions = {edition["day"]: edition["deliveries"] for edition in report["editions"]}
    assert editions[str(DAY)] == {"sent": 1}
    text = run_cli("status", "--day", today.isoformat(), env=env)
    assert "failed" in text.stdout and f"{DAY}  sent 1" in text.stdout
    assert text.returncode == 0
    # For monitoring: --check fails while a job needs a person, and names it.
    checked = run_cli("status", "--day", today.isoformat(), "--check", env=env)
    assert checked.returncode == 1
    assert f"problem: ingest of {today} failed" in checked.stderr
    quiet_day = run_cli("status", "--day", DAY.isoformat(), "--check", env=env)
    assert quiet_day.returncode == 0, quiet_day.stderr


@pytest.mark.parametrize("worker_ingest", ["file does-not-exist.jsonl"])
def test_a_failed_ingest_is_tried_again_an_hour_later_not_every_tick(day_of_papers):
    services = day_of_papers
    today = DAY + timedelta(days=1)
    clock = Clock(utc(today, 2))
    services.clock = clock
    worker = Worker(services, name="worker-a")
    worker.tick()
    with services.engine.connect() as conn:
        first = jobs.state(conn, "ingest", today)
        snapshot = jobs.state(conn, "snapshot", today)
    assert first["status"] == "failed"
    assert "does-not-exist.jsonl" in first["note"]
    assert snapshot["status"] == "done"  # yesterday's trending is frozen all the same
    clock.now = utc(today, 2, 30)
    worker.tick()
    with services.engine.connect() as conn:
        assert jobs.state(conn, "ingest", today)["finished_at"] == first["finished_at"]
    clock.now = utc(today, 3, 1)
    worker.tick()
    with services.engine.connect() as conn:
        again = jobs.state(conn, "ingest", today)
    assert again["status"] == "failed"
    assert again["finished_at"] == utc(today, 3, 1)


def test_a_job_left_running_by_a_dead_worker_is_taken_over_when_its_lease_ends(day_of_papers):
    services = day_of_papers
    today = DAY + timedelta(days=1)
    from paperfeed.storage.db import writing

    with writing(services.engine, row_locks=True) as conn:
        assert jobs.claim(conn, "ingest", today, "ghost", utc(today, 1), utc(today, 2))
    clock = Clock(utc(today, 1, 30))
    services.clock = clock
    worker = Worker(services, name="worker-a")
    worker.tick()
    with services.engine.connect() as conn:
        assert jobs.state(conn, "ingest", today)["claimed_by"] == "ghost"
        assert jobs.state(conn, "snapshot", today) is None  # waits for the ingest
    clock.now = utc(today, 2, 1)
    worker.tick()
    with services.engine.connect() as conn:
        job = jobs.state(conn, "ingest", today)
    assert (job["status"], job["claimed_by"]) == ("done", "worker-a")
    assert json.dumps(job["note"])  # says what ran: nothing, as worker_ingest is empty
    assert "nothing to ingest" in job["note"]


def test_a_long_job_keeps_its_claim_while_its_worker_lives(day_of_papers, monkeypatch):
    services = day_of_papers  # on the real clock: the lease is renewed in real time
    monkeypatch.setattr(worker_module, "JOB_LEASE", timedelta(seconds=0.3))
    today = datetime.now(UTC).date()
    busy, other = Worker(services, name="busy"), Worker(services, name="other")
    taken_over = []

    def long_work() -> tuple[bool, str]:
        time.sleep(1.0)  # more than three leases
        taken_over.append(other.run_job("ingest", today, lambda: (True, "stolen")))
        return True, "took a while"

    assert busy.run_job("ingest", today, long_work)
    with services.engine.connect() as conn:
        job = jobs.state(conn, "ingest", today)
    assert taken_over == [False]
    assert (job["status"], job["claimed_by"], job["note"]) == ("done", "busy", "took a while")


def test_an_idle_tick_does_not_wait_for_the_writers_lock(day_of_papers, smtp_server):
    """Workers tick every half minute all day; once the day's jobs and digests are done a tick
    only reads, so it never queues behind (or holds up) an ingest or other writers."""
    services = day_of_papers
    add_subscriber(services, "ada@example.org")
    clock = Clock(utc(DAY + timedelta(days=1), 8))
    services.clock = clock
    worker = Worker(services, name="worker-a")
    worker.tick()
    assert sorted(received(smtp_server)) == ["ada@example.org"]
    clock.now += timedelta(minutes=1)

    holding, release = threading.Event(), threading.Event()

    def hold_the_writers_lock() -> None:
        with writing(services.engine):
            holding.set()
            release.wait(60)

    writer = threading.Thread(target=hold_the_writers_lock)
    writer.start()
    holding.wait(10)
    outcome = []
    ticking = threading.Thread(target=lambda: outcome.append(worker.tick()))
    ticking.start()
    ticking.join(30)
    finished_while_held = not ticking.is_alive()
    release.set()
    writer.join()
    ticking.join()
    assert finished_while_held, "an idle tick waited for the writers' lock"
    assert outcome and all(s.sent == 0 for s in outcome[0])
    assert len(received(smtp_server)["ada@example.org"]) == 1


@pytest.mark.parametrize("worker_ingest", ["file {corpus}"])
def test_a_stopping_worker_hands_its_ingest_back_interrupted_and_the_next_resumes_it(
    day_of_papers, tmp_path, shared_data, monkeypatch
):
    services = day_of_papers
    with (tmp_path / "corpus.jsonl").open("wb") as out:
        for path in sorted((shared_data / "C_arxiv_metadata_corpus").glob("*.jsonl.gz"))[:6]:
            with gzip.open(path) as lines:
                shutil.copyfileobj(lines, out)
    monkeypatch.setenv("PAPERFEED_INGEST_BATCH_SIZE", "100")
    monkeypatch.setattr(worker_module, "CHILD_POLL_S", 0.1)
    today = DAY + timedelta(days=1)
    services.clock = Clock(utc(today, 1, 30))
    first = Worker(services, name="worker-a")
    ticking = threading.Thread(target=first.tick)
    ticking.start()
    # Stop the worker (as systemd or `kill` would: the worker alone is told) once the ingest
    # process has stored its first batch.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _file_checkpoints(services):
        time.sleep(0.05)
    first.stopping.set()
    ticking.join(timeout=90)
    assert not ticking.is_alive()
    with services.engine.connect() as conn:
        job = jobs.state(conn, "ingest", today)
        runs = _file_runs(conn)
        stored_before = conn.execute(sa.select(sa.func.count()).select_from(papers_table)).scalar()
    assert (job["status"], job["claimed_by"]) == ("running", "worker-a")
    assert job["lease_until"] <= services.clock()  # free for any worker now, not in 10 minutes
    assert "stopped with worker worker-a" in job["note"]
    assert [state for state, _ in runs] == ["interrupted"]
    assert 8 < stored_before
    report = status(services, services.clock(), today)
    shown = {job["job"]: job["status"] for job in report["jobs"] if job["day"] == str(today)}
    assert shown["ingest"] == "abandoned"  # what `paperfeed status` tells the operator

    Worker(services, name="worker-b").tick()
    with services.engine.connect() as conn:
        job = jobs.state(conn, "ingest", today)
        runs = _file_runs(conn)
        stored = conn.execute(sa.select(sa.func.count()).select_from(papers_table)).scalar()
    assert (job["status"], job["claimed_by"]) == ("done", "worker-b")
    assert [state for state, _ in runs] == ["interrupted", "done"]
    total = sum(1 for line in (tmp_path / "corpus.jsonl").open("rb") if line.strip())
    assert stored == 8 + total - sum(failed for _, failed in runs)


def _file_checkpoints(services) -> int:
    with services.engine.connect() as conn:
        query = "select count(*) from checkpoints where key not like 'embeddings:%'"
        return conn.execute(sa.text(query)).scalar()


def _file_runs(conn) -> list[tuple[str, int]]:
    query = "select status, failed from ingest_runs where checkpoint_key is not null order by id"
    return [tuple(row) for row in conn.execute(sa.text(query))]
