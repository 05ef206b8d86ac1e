"""What bench/digest.py and its parts share: the paths under bench/.work/digest/, the
edition day and its fixed times, the model, the seed, progress lines and the database engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from common import say  # noqa: F401 - the digest scripts import it from here

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "digest.py"  # the sink and the sending processes run it again
WORK = ROOT / "bench" / ".work" / "digest"
HOME = WORK / "home"
DATABASE = HOME / "paperfeed.db"
SAMPLE = WORK / "sample-digest.eml"

DAY = date(2026, 2, 1)  # a Sunday: daily and weekly subscribers are all due
DAY_START = datetime.combine(DAY, clock_time(), UTC)
BACKFILL_AT = DAY_START - timedelta(days=60)
MODEL = "all-MiniLM-L6-v2"
SEED = 20260201


def engine_of():
    from paperfeed.storage.db import connect

    return connect(f"sqlite:///{DATABASE}")
