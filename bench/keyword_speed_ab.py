"""Keyword search speed, before and after the one-field BM25 change, in one run.

    .venv/bin/python bench/keyword_speed_ab.py                # 100,000 papers
    .venv/bin/python bench/keyword_speed_ab.py --size 20000   # smoke run

The same corpus and queries as bench/search_speed.py (bench/speed_corpus.py). Two tantivy
indexes are built from it side by side:
- before: `KeywordIndex` of search/keyword.py as it was at commit BEFORE_COMMIT (title and
  abstract as separate stemmed fields, the title boosted 2×), taken with `git show`;
- after: `KeywordIndex` as it is (title and abstract as one field, a repeated word weighted
  by its count).
Both are searched through their own `KeywordIndex.search`, the function search calls; queries
alternate between the two, so machine load hits both alike; top 10 per query.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import speed_corpus  # noqa: E402

from paperfeed.search import keyword  # noqa: E402
from paperfeed.search.query import parse  # noqa: E402
from paperfeed.storage.search_source import SearchDoc  # noqa: E402

WORK = ROOT / "bench" / ".work" / "speed" / "keyword-ab"
STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def read_docs(size: int) -> list[SearchDoc]:
    docs = []
    with speed_corpus.build_corpus(size).open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            authors = [a.strip() for a in str(record.get("authors") or "").split(",") if a.strip()]
            docs.append(
                SearchDoc(
                    str(record["id"]),
                    record.get("title") or "",
                    record.get("abstract") or "",
                    authors,
                    str(record.get("categories") or "").split(),
                    STAMP,
                    STAMP,
                )
            )
    return docs


BEFORE_COMMIT = "eb86e28"  # the last commit with the two-field keyword index


def load_before() -> ModuleType:
    """search/keyword.py as it was at BEFORE_COMMIT, imported under another name."""
    source = subprocess.run(
        ["git", "show", f"{BEFORE_COMMIT}:paperfeed/search/keyword.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "keyword_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("keyword_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["keyword_before"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def build(module: ModuleType, directory: Path, docs: list[SearchDoc]):
    """A KeywordIndex of `module` (before or after) holding `docs`, written as sync writes."""
    index = module.KeywordIndex.open(directory, rebuild=True)
    writer = index._index.writer(heap_size=module.WRITER_HEAP, num_threads=2)
    for doc in docs:
        writer.add_document(module.KeywordIndex._document(doc))
    writer.commit()
    writer.wait_merging_threads()
    index._index.reload()
    return index


def spread(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered):6.2f} ms  p95 {p95:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    docs = read_docs(args.size)
    shutil.rmtree(WORK, ignore_errors=True)
    old = load_before()
    started = time.perf_counter()
    before = build(old, WORK / "before", docs)
    built_before = time.perf_counter() - started
    started = time.perf_counter()
    after = build(keyword, WORK / "after", docs)
    built_after = time.perf_counter() - started
    print(f"{len(docs)} papers; build: before {built_before:.1f} s, after {built_after:.1f} s")
    queries = speed_corpus.build_queries(args.queries)["classes"]
    for name, sets in queries.items():
        for text in sets["warmup"]:
            before.search(parse(text), limit=10)
            after.search(parse(text), limit=10)
        times: dict[str, list[float]] = {"before": [], "after": []}
        for text in sets["measured"]:
            started = time.perf_counter()
            before.search(parse(text), limit=10)
            times["before"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            after.search(parse(text), limit=10)
            times["after"].append((time.perf_counter() - started) * 1000)
        print(f"{name:<7} before {spread(times['before'])}   after {spread(times['after'])}")


if __name__ == "__main__":
    main()
