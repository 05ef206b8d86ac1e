"""The keyword index's first catch-up after a bulk load: what every search node does when the
next paper arrives, beside the same catch-up writing the whole slack window again (as
paperfeed did before keyword index schema 2), in the same run.

    .venv/bin/python bench/keyword_catch_up.py                  # 100,000 papers, ~2 minutes
    .venv/bin/python bench/keyword_catch_up.py --size 1000000   # ~10 minutes (+ the source)

The source is bench/db_copy.py's (the speed corpus loaded through `ingest()`, built once in
bench/.work/copy/<N>.db and reused). Steps: build a keyword index from it; copy the index
folder; ingest one new paper; then time `KeywordIndex.sync` on each copy — the real one, which
skips papers it holds at the same stamp, and the baseline, whose skip is switched off. The
bulk load's stamps all lie within the 10-minute catch-up slack of the watermark, so both read
the whole load again; the baseline also writes it again.
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
from paperfeed.search.keyword import KeywordIndex  # noqa: E402
from paperfeed.search.query import parse  # noqa: E402
from paperfeed.storage.db import connect, writing  # noqa: E402
from paperfeed.storage.papers import delete_papers  # noqa: E402


class RewritesTheWindow(KeywordIndex):
    """The baseline: every paper the slack re-reads is written again."""

    def _not_indexed(self, page, watermark):  # noqa: ANN001, ANN202
        return page


class OnePaper:
    name = "bench"

    def __init__(self, paper: Paper) -> None:
        self._paper = paper

    def checkpoint_key(self) -> None:
        return None

    def batches(self, checkpoint):  # noqa: ANN001, ANN201
        yield Batch(papers=[self._paper])


def timed_sync(index: KeywordIndex, engine) -> tuple[float, int]:  # noqa: ANN001
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
    shutil.copytree(folder / "real", folder / "baseline")
    stamp = datetime.now(UTC).strftime("%H%M%S%f")
    new = Paper(
        id=f"bench.{stamp}",
        title=f"Catch-up probe {stamp}",
        abstract="A paper that arrives after the bulk load.",
        source="bench",
        published_at=datetime.now(UTC),
    )
    ingest(OnePaper(new), engine)
    try:
        baseline = RewritesTheWindow.open(folder / "baseline")
        baseline_s, baseline_written = timed_sync(baseline, engine)
        real = KeywordIndex.open(folder / "real")
        real_s, real_written = timed_sync(real, engine)
        found = [h.paper_id for h in real.search(parse(f"probe {stamp}"), limit=1).hits]
        assert found == [new.id], "the new paper is not searchable after the catch-up"
    finally:
        # The cached source stays as built, so that the next run measures the same thing.
        with writing(engine) as conn:
            delete_papers(conn, [new.id])
        shutil.rmtree(folder)
    print(f"{args.size:,} papers; full keyword index build {build_s:.1f} s\n")
    print(f"{'first catch-up after the bulk load':<40} {'seconds':>8} {'written':>10}")
    print(f"{'  skips what it holds (paperfeed)':<40} {real_s:>8.1f} {real_written:>10,}")
    print(f"{'  baseline: writes the window again':<40} {baseline_s:>8.1f} {baseline_written:>10,}")
    print(f"\n{baseline_s / real_s:.1f}x faster")


if __name__ == "__main__":
    main()
