"""`paperfeed digest send` killed with SIGKILL at random moments, then run again: nobody is
missing a digest, and each kill costs at most one duplicate (the message whose 250 arrived but
whose ledger row was not yet marked sent)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from paperfeed.config import load_settings
from paperfeed.services import build
from tests.subscriptions.conftest import DAY, add_subscriber, day_of_papers  # noqa: F401
from tests.support.live import cli_env

pytestmark = pytest.mark.slow  # crash trials: left out by `-m "not slow"`

TRIALS = 20
SUBSCRIBERS = 30


@pytest.fixture
def template_db(tmp_path):
    """A database with a day of papers and SUBSCRIBERS confirmed subscribers, to copy."""
    home = tmp_path / "template"
    settings = load_settings({"home": str(home)}, environ={})
    services = build(settings)
    from paperfeed.ingest.run import ingest
    from paperfeed.models import Batch, Signal
    from tests.subscriptions.conftest import NOON, day_papers
    from tests.support.sources import OneBatch

    signals = [Signal("2603.00001", "hf", "upvotes", 40, NOON)]
    ingest(
        OneBatch(Batch(papers=day_papers(), signals=signals)), services.engine, clock=lambda: NOON
    )
    for n in range(SUBSCRIBERS):
        add_subscriber(services, f"reader{n}@example.org", paper_count="3")
    services.close()
    return home / "paperfeed.db"


def send(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "digest", "send", "--date", DAY.isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_sigkill_at_random_moments_loses_nothing(template_db, tmp_path, smtp_server):
    rng = random.Random(20261201)
    report = []
    for trial in range(TRIALS):
        home = tmp_path / f"trial{trial}"
        home.mkdir()
        shutil.copy(template_db, home / "paperfeed.db")
        env = cli_env(home) | {
            "PAPERFEED_MAIL_URL": smtp_server.url,
            "PAPERFEED_PUBLIC_URL": "https://papers.example.org",
        }
        before = len(smtp_server.messages)
        # Kill after a random number of messages went out (0: while starting up or composing).
        kill_after = rng.randint(0, SUBSCRIBERS - 1)
        process = send(env)
        deadline = time.monotonic() + 60
        while len(smtp_server.messages) - before < kill_after and process.poll() is None:
            assert time.monotonic() < deadline, "the send never reached the kill point"
            time.sleep(0.001)
        if kill_after == 0:
            time.sleep(rng.uniform(0.0, 1.5))
        killed = process.poll() is None
        if killed:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        resumed = send(env)
        output, _ = resumed.communicate(timeout=120)
        assert resumed.returncode == 0, output
        got = Counter(address for m in smtp_server.messages[before:] for address in m.rcpt_tos)
        missing = [
            f"reader{n}@example.org"
            for n in range(SUBSCRIBERS)
            if got[f"reader{n}@example.org"] == 0
        ]
        duplicates = sum(count - 1 for count in got.values())
        report.append((trial, kill_after, killed, duplicates))
        assert missing == [], f"trial {trial}: no digest for {missing}"
        assert duplicates <= (1 if killed else 0), f"trial {trial}: {dict(got)}"
    print("trial, killed after n messages, killed, duplicates:", report)
    assert sum(1 for _, _, killed, _ in report if killed) >= TRIALS // 2
