"""Load the demo corpus that ships inside the package (see paperfeed/demo/README.md).

Called by `paperfeed demo` and the quick start; loading twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from paperfeed.ingest.run import Progress, ingest, now_utc
from paperfeed.ingest.sources.bulk_file import BulkFileSource
from paperfeed.models import IngestReport

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"
DEMO_FILES = ("seed-papers.jsonl", "hf-daily-recent.jsonl.gz")


def load_demo(
    engine: sa.Engine,
    *,
    clock: Callable[[], datetime] = now_utc,
    on_progress: Callable[[Progress], None] | None = None,
) -> list[IngestReport]:
    reports = []
    for name in DEMO_FILES:
        source = BulkFileSource(DEMO_DIR / name)
        reports.append(
            ingest(source, engine, params={"demo": name}, clock=clock, on_progress=on_progress)
        )
    return reports
