"""`paperfeed index` for the morning's few new papers in a big database: the candidate scan that
starts at the last complete run's watermark, beside the scan of every paper (what every run
did before the watermark, and what `paperfeed index --rebuild` still does), in the same run.

    .venv/bin/python bench/embed_new.py                    # 100,000 papers, ~2 minutes
    .venv/bin/python bench/embed_new.py --size 1000000     # ~15 minutes with the source

The source is bench/db_copy.py's (the speed corpus loaded through `ingest()`, with one 256-d
vector per paper stored for the fast model; built once in bench/.work/copy/<N>.db and reused),
copied and aged by a day, as a morning's run finds it (a load younger than the 10-minute slack
is read again, and needs embedding anyway). One complete run leaves the watermark; then, in
turns, one new paper is ingested and embedded by each kind of run. The embedder returns random
vectors: what is timed is the database work around the model, the same for one paper whatever
the model.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from db_copy import DIMS, WORK, build_source  # noqa: E402
from keyword_catch_up import OnePaper  # noqa: E402

from paperfeed.ingest.run import ingest  # noqa: E402
from paperfeed.models import Paper  # noqa: E402
from paperfeed.search.embedder import FAST_MODEL  # noqa: E402
from paperfeed.search.indexing import embed_papers  # noqa: E402
from paperfeed.storage import ingest_runs  # noqa: E402
from paperfeed.storage.db import connect, writing  # noqa: E402
from paperfeed.storage.papers import delete_papers  # noqa: E402

TURNS = 5


class RandomVectors:
    """Stands in for the fast model: same name and width, no model time."""

    name = FAST_MODEL

    def __init__(self) -> None:
        self._rng = np.random.default_rng(7)

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._rng.standard_normal((len(texts), DIMS)).astype("float32")


def aged_copy(size: int) -> Path:
    path = WORK / f"embed-{size}.db"
    if not path.exists():
        tmp = path.with_suffix(".tmp.db")
        shutil.copyfile(build_source(size), tmp)
        stamps = (("papers", "last_changed_at"), ("embeddings", "paper_changed_at"))
        conn = sqlite3.connect(tmp)
        with conn:
            for table, column in stamps:
                # Stamps are stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC): shift the date and
                # time, keep the microseconds.
                conn.execute(
                    f"UPDATE {table} SET {column} = "
                    f"strftime('%Y-%m-%d %H:%M:%S', {column}, '-1 day') || substr({column}, 20)"
                )
        conn.close()
        tmp.replace(path)
    return path


def now() -> datetime:
    return datetime.now(UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="papers in the source")
    args = parser.parse_args()
    engine = connect(f"sqlite:///{aged_copy(args.size)}")
    embedder = RandomVectors()
    added: list[str] = []
    times: dict[str, list[float]] = {"watermark": [], "rescan": []}
    try:
        started = time.perf_counter()
        first = embed_papers(engine, embedder, clock=now, rescan=True)
        first_s = time.perf_counter() - started
        for turn in range(TURNS):
            for kind in times:
                paper_id = f"bench.{turn}.{kind}.{now():%H%M%S%f}"
                ingest(
                    OnePaper(Paper(id=paper_id, title=f"Probe {paper_id}", source="bench")), engine
                )
                added.append(paper_id)
                started = time.perf_counter()
                report = embed_papers(engine, embedder, clock=now, rescan=kind == "rescan")
                times[kind].append(time.perf_counter() - started)
                assert report.embedded == 1, f"{kind} embedded {report.embedded}, not the new paper"
    finally:
        # The cached source stays as built, so that the next run measures the same thing.
        with writing(engine) as conn:
            delete_papers(conn, added)
            ingest_runs.clear_checkpoint(conn, f"embeddings:{FAST_MODEL}")
    print(
        f"{args.size:,} papers; first complete run (nothing to embed, {first.candidates} "
        f"candidates) {first_s:.1f} s\n"
    )
    print(f"{'embed one new paper':<36} {'median s':>9} {'max s':>8}")
    rows = {"from the watermark (paperfeed)": "watermark", "  baseline: every paper": "rescan"}
    for label, kind in rows.items():
        print(f"{label:<36} {statistics.median(times[kind]):>9.3f} {max(times[kind]):>8.3f}")
    speedup = statistics.median(times["rescan"]) / statistics.median(times["watermark"])
    print(f"\n{speedup:.0f}x faster")


if __name__ == "__main__":
    main()
