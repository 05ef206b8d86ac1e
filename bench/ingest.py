"""Bulk-load speed: papers/s into SQLite for the real 83k corpus and a 1M corpus built from it.

    .venv/bin/python bench/ingest.py                 # 83k and 1M, baseline on 20k records
    .venv/bin/python bench/ingest.py --sizes 83k     # quicker

Corpora (written once under bench/.work/, reused afterwards):
- `arxiv-snapshot-83k.jsonl`: the 83,426 real records of ../shared/data/C_arxiv_metadata_corpus
  rewritten in the arXiv metadata snapshot format (id, submitter, authors, title, comments,
  journal-ref, doi, categories, abstract, versions, update_date, authors_parsed).
- `arxiv-snapshot-1m.jsonl`: those records repeated until there are 1,000,000; copy k shifts
  the year digits of every new-style id by 3*k (2401.00001 → 2701.00001 in copy 1), so each id
  is unique while titles, abstracts, authors and sizes stay real.

Each measurement runs `paperfeed ingest file` logic in a fresh child process on a fresh SQLite
database, timing the ingest call and reading the child's peak memory (ru_maxrss). The naive
baseline stores the same parsed records one at a time, each in its own transaction, through
the same storage functions (get_stored, merge_paper, insert_papers).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
CORPUS_DIR = ROOT.parent / "shared" / "data" / "C_arxiv_metadata_corpus"
SIZES = {"83k": None, "1m": 1_000_000}


def to_snapshot(record: dict) -> dict:
    arxiv_id, _, version = record["arxiv_id"].rpartition("v")
    published = datetime.strptime(record["published_date"], "%Y-%m-%d %H:%M:%S UTC").replace(
        tzinfo=UTC
    )
    names = [name.rsplit(" ", 1) for name in record["authors"]]
    return {
        "id": arxiv_id,
        "submitter": record["authors"][0] if record["authors"] else None,
        "authors": ", ".join(record["authors"]),
        "title": record["title"],
        "comments": record.get("comment") or None,
        "journal-ref": None,
        "doi": None,
        "report-no": None,
        "categories": " ".join(record["categories"]),
        "license": None,
        "abstract": record["abstract"],
        "versions": [
            {"version": f"v{n}", "created": format_datetime(published, usegmt=True)}
            for n in range(1, int(version) + 1)
        ],
        "update_date": record["updated_date"][:10],
        "authors_parsed": [[p[-1], p[0] if len(p) > 1 else "", ""] for p in names],
    }


def build_corpora(sizes: list[str]) -> dict[str, Path]:
    WORK.mkdir(parents=True, exist_ok=True)
    base = WORK / "arxiv-snapshot-83k.jsonl"
    if not base.exists():
        with base.open("w") as out:
            for path in sorted(CORPUS_DIR.glob("*.jsonl.gz")):
                with gzip.open(path, "rt") as lines:
                    for line in lines:
                        out.write(json.dumps(to_snapshot(json.loads(line))) + "\n")
    paths = {"83k": base}
    if "1m" in sizes:
        big = WORK / "arxiv-snapshot-1m.jsonl"
        if not big.exists():
            records = base.read_text().splitlines()
            written = 0
            with big.open("w") as out:
                copy = 0
                while written < SIZES["1m"]:
                    for line in records:
                        if written == SIZES["1m"]:
                            break
                        record = json.loads(line)
                        yy = int(record["id"][:2]) + 3 * copy
                        record["id"] = f"{yy:02d}{record['id'][2:]}"
                        out.write(json.dumps(record) + "\n")
                        written += 1
                    copy += 1
        paths["1m"] = big
    return paths


def child_bulk(corpus: Path, database: Path) -> dict:
    from paperfeed.ingest.run import ingest
    from paperfeed.ingest.sources.bulk_file import BulkFileSource
    from paperfeed.storage.db import connect, migrate

    engine = connect(f"sqlite:///{database}")
    migrate(engine)
    source = BulkFileSource(corpus, file_format="arxiv-snapshot", batch_size=1000)
    started = time.perf_counter()
    report = ingest(source, engine)
    seconds = time.perf_counter() - started
    return {
        "records": report.new + report.updated + report.unchanged,
        "failed": report.failed,
        "seconds": seconds,
    }


def child_naive(corpus: Path, database: Path, limit: int) -> dict:
    from paperfeed.ingest.merge import merge_paper
    from paperfeed.ingest.run import now_utc
    from paperfeed.ingest.sources.bulk_file import BulkFileSource
    from paperfeed.storage import papers
    from paperfeed.storage.db import connect, migrate, writing

    engine = connect(f"sqlite:///{database}")
    migrate(engine)
    parsed = []
    for batch in BulkFileSource(corpus, file_format="arxiv-snapshot").batches(None):
        parsed.extend(batch.papers)
        if len(parsed) >= limit:
            break
    started = time.perf_counter()
    # Parsing is left out of this timing (the bulk run includes it), which flatters the baseline.
    for paper in parsed[:limit]:
        with writing(engine) as conn:
            stored = papers.get_stored(conn, [paper.id]).get(paper.id)
            merged, _changed = merge_paper(stored, paper, now_utc())
            papers.insert_papers(conn, [merged])
    seconds = time.perf_counter() - started
    return {"records": min(limit, len(parsed)), "failed": 0, "seconds": seconds}


def peak_rss_mib() -> float:
    """This process's peak resident memory. Read from VmHWM, because ru_maxrss on Linux carries
    the parent's peak across fork and exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def measure(mode: str, corpus: Path, limit: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="paperfeed-bench-") as folder:
        database = Path(folder) / "bench.db"
        command = [
            sys.executable,
            __file__,
            "--child",
            mode,
            str(corpus),
            str(database),
            str(limit),
        ]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        output, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"{mode} run failed: {output}")
        result = json.loads(output.strip().splitlines()[-1])
        result["db_mib"] = (
            database.stat().st_size / 2**20
            + sum(p.stat().st_size for p in Path(folder).glob("bench.db-*")) / 2**20
        )
    result["papers_per_s"] = result["records"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="83k,1m", help="comma-separated: 83k, 1m")
    parser.add_argument("--baseline-records", type=int, default=20_000)
    parser.add_argument(
        "--child", nargs=4, metavar=("MODE", "CORPUS", "DB", "LIMIT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        mode, corpus, database, limit = args.child
        if mode == "bulk":
            result = child_bulk(Path(corpus), Path(database))
        else:
            result = child_naive(Path(corpus), Path(database), int(limit))
        result["peak_rss_mib"] = peak_rss_mib()
        print(json.dumps(result))
        return
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    corpora = build_corpora(sizes)
    print(
        f"{'corpus':<8} {'method':<28} {'records':>9} {'seconds':>8} {'papers/s':>9} "
        f"{'peak MiB':>9} {'db MiB':>8}"
    )
    naive = measure("naive", corpora["83k"], args.baseline_records)
    print(
        f"{'83k':<8} {'naive: one row per txn':<28} {naive['records']:>9} "
        f"{naive['seconds']:>8.1f} {naive['papers_per_s']:>9.0f} {naive['peak_rss_mib']:>9.0f} "
        f"{naive['db_mib']:>8.0f}"
    )
    for size in sizes:
        result = measure("bulk", corpora[size], 0)
        speedup = result["papers_per_s"] / naive["papers_per_s"]
        print(
            f"{size:<8} {'paperfeed ingest file':<28} {result['records']:>9} "
            f"{result['seconds']:>8.1f} {result['papers_per_s']:>9.0f} "
            f"{result['peak_rss_mib']:>9.0f} {result['db_mib']:>8.0f}   "
            f"({speedup:.1f}x naive; failed {result['failed']})"
        )


if __name__ == "__main__":
    main()
