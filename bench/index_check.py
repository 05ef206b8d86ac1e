"""The search indexes' periodic check (every 5 s in every web process): the newest stamps by
one index seek each, beside the full count + newest stamp they replaced, in the same run.

    .venv/bin/python bench/index_check.py                    # 100,000 papers
    .venv/bin/python bench/index_check.py --size 1000000

The database is bench/db_copy.py's source (built once, reused); --url measures another one,
e.g. a PostgreSQL copy of it made by `paperfeed db copy`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from db_copy import build_source  # noqa: E402

from paperfeed.search.embedder import FAST_MODEL  # noqa: E402
from paperfeed.storage import embeddings, search_source  # noqa: E402
from paperfeed.storage.db import connect  # noqa: E402

RUNS = 50


def timed(call) -> tuple[float, float]:
    call()  # warm the cache: the check runs on a live server
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return times[RUNS // 2], times[int(RUNS * 0.95)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="papers in the built source")
    parser.add_argument("--url", help="measure this database instead")
    args = parser.parse_args()
    engine = connect(args.url or f"sqlite:///{build_source(args.size)}")
    with engine.connect() as conn:
        papers = search_source.corpus_state(conn).count
        checks = {
            "papers: newest stamp (paperfeed)": lambda: search_source.latest_change(conn),
            "  baseline: count + newest stamp": lambda: search_source.corpus_state(conn),
            "vectors: newest stamp (paperfeed)": lambda: embeddings.latest_embedded_at(
                conn, FAST_MODEL
            ),
            "  baseline: count + newest stamp ": lambda: embeddings.model_state(conn, FAST_MODEL),
        }
        print(f"{engine.dialect.name}, {papers:,} papers; ms over {RUNS} runs")
        print(f"{'':<36} {'p50':>9} {'p95':>9}")
        for name, call in checks.items():
            p50, p95 = timed(call)
            print(f"{name:<36} {p50:>9.3f} {p95:>9.3f}")
    engine.dispose()


if __name__ == "__main__":
    main()
