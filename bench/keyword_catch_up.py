"""The keyword index's first catch-up after a bulk load: what every search node does when the
next paper arrives, beside two earlier ways of doing it, in the same run.

    .venv/bin/python bench/keyword_catch_up.py                  # 100,000 papers, ~2 minutes
    .venv/bin/python bench/keyword_catch_up.py --size 1000000   # ~15 minutes (+ the source)

The source is bench/db_copy.py's (the speed corpus loaded through `ingest()`, built once in
bench/.work/copy/<N>.db and reused). Steps: build a keyword index from it; copy the index
folder twice; ingest one new paper; then time `KeywordIndex.sync` on each copy. The bulk load's
stamps all lie within the 10-minute catch-up slack of the watermark, so every way looks at the
whole load again:
- paperfeed: reads the slack's (id, stamp) pairs, checks them against the index, and reads and
  writes only the papers it lacks;
- baseline 2: reads the slack's papers whole, and writes only those the index lacks;
- baseline 1: reads the slack's papers whole and writes them all again.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from db_copy import WORK, build_source  # noqa: E402

from paperfeed.ingest.run import ingest  # noqa: E402
from paperfeed.models import Batch, Paper  # noqa: E402
from paperfeed.search.keyword import CATCH_UP_SLACK, KeywordIndex  # noqa: E402
from paperfeed.search.query import parse  # noqa: E402
from paperfeed.storage import search_source  # noqa: E402
from paperfeed.storage.db import connect, writing  # noqa: E402
from paperfeed.storage.papers import delete_papers  # noqa: E402


class RewritesTheWindow(KeywordIndex):
    """Baseline 1 (before keyword index schema 2): the slack is read whole and written again."""

    def _catch_up_pages(self, conn, watermark):
        yield from search_source.changed_since(conn, watermark - CATCH_UP_SLACK)


class ReadsTheWindow(KeywordIndex):
    """Baseline 2 (schema 2 until the stamps-first read): the slack is read whole, papers and
    all, and only what the index lacks is written."""

    def _catch_up_pages(self, conn, watermark):
        for page in search_source.changed_since(conn, watermark - CATCH_UP_SLACK):
            old = [
                (doc.id, doc.last_changed_at) for doc in page if doc.last_changed_at <= watermark
            ]
            missing = set(self._not_indexed(old)) if old else set()
            yield [d for d in page if d.last_changed_at > watermark or d.id in missing]


class OnePaper:
    name = "bench"

    def __init__(self, paper: Paper) -> None:
        self._paper = paper

    def checkpoint_key(self) -> None:
        return None

    def batches(self, checkpoint):
        yield Batch(papers=[self._paper])


def timed_sync(index: KeywordIndex, engine) -> tuple[float, int]:
    started = time.perf_counter()
    written = index.sync(engine)
    return time.perf_counter() - started, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="papers in the source")
    args = parser.parse_args()
    engine = connect(f"sqlite:///{build_source(args.size)}")
    folder = WORK / f"keyword-{args.size}"
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    built = KeywordIndex.open(folder / "real", rebuild=True)
    built.sync(engine)
    build_s = time.perf_counter() - started
    for kind in ("reads", "rewrites"):
        shutil.copytree(folder / "real", folder / kind)
    stamp = datetime.now(UTC).strftime("%H%M%S%f")
    new = Paper(
        id=f"bench.{stamp}",
        title=f"Catch-up probe {stamp}",
        abstract="A paper that arrives after the bulk load.",
        source="bench",
        published_at=datetime.now(UTC),
    )
    ingest(OnePaper(new), engine)
    ways = {
        "  stamps first (paperfeed)": KeywordIndex.open(folder / "real"),
        "  baseline 2: reads the slack whole": ReadsTheWindow.open(folder / "reads"),
        "  baseline 1: rewrites the slack": RewritesTheWindow.open(folder / "rewrites"),
    }
    results = {}
    try:
        for label, index in ways.items():
            results[label] = timed_sync(index, engine)
            found = [h.paper_id for h in index.search(parse(f"probe {stamp}"), limit=1).hits]
            assert found == [new.id], f"{label.strip()}: the new paper is not searchable"
    finally:
        # The cached source stays as built, so that the next run measures the same thing.
        with writing(engine) as conn:
            delete_papers(conn, [new.id])
        shutil.rmtree(folder)
    print(f"{args.size:,} papers; full keyword index build {build_s:.1f} s\n")
    print(f"{'first catch-up after the bulk load':<40} {'seconds':>8} {'written':>10}")
    for label, (seconds, written) in results.items():
        print(f"{label:<40} {seconds:>8.1f} {written:>10,}")
    real_s = results["  stamps first (paperfeed)"][0]
    for label, (seconds, _) in list(results.items())[1:]:
        print(f"{seconds / real_s:.1f}x faster than {label.strip().partition(':')[0]}")


if __name__ == "__main__":
    main()
