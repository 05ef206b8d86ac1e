"""Search quality: nDCG@10, recall@100 and MRR for each mode and model on judged collections.

    .venv/bin/python bench/search_quality.py                    # the in-repo collections
    .venv/bin/python bench/search_quality.py --collection DIR   # any BEIR-layout collection
    .venv/bin/python bench/search_quality.py --models fast      # one model only

A collection is a folder in the BEIR layout: `corpus.jsonl` ({"_id", "title", "text",
"metadata"?}), `queries.jsonl` ({"_id", "text", "metadata"?}) and `qrels/test.tsv` (query-id,
corpus-id, score; graded scores count as graded gains). Without --collection the known-item
and described collections of bench/known_item.py are built (once) from the real arXiv corpus
and Hugging Face's summaries, and used.

Each corpus is loaded into its own SQLite database under bench/.work/quality/ (collections
sharing a corpus file share the database and its vectors), embedded
with each model (incrementally: a rerun embeds nothing), and every query is run through
SearchService.search — the function the CLI, web pages and API call — in each mode at depth
100. Per-style figures are printed when queries carry metadata.style. Results are also written
as JSON beside the database, for docs/ranking.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import known_item  # noqa: E402

from paperfeed.ingest.normalize import looks_like_arxiv_id, parse_arxiv_id  # noqa: E402
from paperfeed.models import Paper, StoredPaper  # noqa: E402
from paperfeed.search.distill import ensure_fast_model  # noqa: E402
from paperfeed.search.embedder import (  # noqa: E402
    DEFAULT_MODEL,
    FAST_MODEL,
    Embedder,
    resolve_model_path,
)
from paperfeed.search.indexing import embed_papers  # noqa: E402
from paperfeed.search.service import MODES, SearchService  # noqa: E402
from paperfeed.storage.db import connect, ensure_schema, writing  # noqa: E402
from paperfeed.storage.papers import insert_papers  # noqa: E402

WORK = ROOT / "bench" / ".work" / "quality"
DEPTH = 100
LOAD_BATCH = 1_000
# Papers in a BEIR corpus carry no dates; one fixed instant keeps every run the same.
UNDATED = datetime(2024, 1, 1, tzinfo=UTC)


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def read_qrels(path: Path) -> dict[str, dict[str, float]]:
    qrels: dict[str, dict[str, float]] = defaultdict(dict)
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            parts = line.rstrip("\n").split("\t")
            if number == 0 and parts[0] == "query-id":
                continue
            query_id, doc_id, score = parts[0], parts[1], float(parts[2])
            if score > 0:
                qrels[query_id][doc_id] = score
    return qrels


def paper_id_for(beir_id: str) -> str:
    """paperfeed keeps arXiv ids as they are; any other id becomes a local one."""
    if looks_like_arxiv_id(beir_id):
        return parse_arxiv_id(beir_id)[0]
    return f"local:{beir_id}"


def load_corpus(engine, corpus: list[dict]) -> None:  # noqa: ANN001
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT count(*) FROM papers").scalar_one()
    if stored == len(corpus):
        return
    if stored:
        raise SystemExit(f"the cached database holds {stored} papers, not {len(corpus)}: delete it")
    for start in range(0, len(corpus), LOAD_BATCH):
        batch = []
        for doc in corpus[start : start + LOAD_BATCH]:
            meta = doc.get("metadata") or {}
            published = meta.get("published")
            paper = Paper(
                id=paper_id_for(str(doc["_id"])),
                title=doc.get("title") or "",
                abstract=doc.get("text") or "",
                authors=list(meta.get("authors") or []),
                categories=list(meta.get("categories") or []),
                published_at=_parse_day(published) if published else UNDATED,
                source="bench",
            )
            batch.append(
                StoredPaper(paper, ["bench"], first_seen_at=UNDATED, last_changed_at=UNDATED)
            )
        with writing(engine) as conn:
            insert_papers(conn, batch)


def _parse_day(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace(" UTC", "").replace("Z", "+00:00"))
    except ValueError:
        return UNDATED
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def prepare_model(engine, index_dir: Path, model: str) -> SearchService:  # noqa: ANN001
    search = SearchService(engine, index_dir=index_dir, model=model, refresh_s=3600)
    if model == FAST_MODEL:
        ensure_fast_model(search.fast_model_dir, engine, echo=print)
    embedder = Embedder(model, resolve_model_path(model, search.fast_model_dir)).load()
    search = SearchService(
        engine, index_dir=index_dir, model=model, refresh_s=3600, embedder=embedder
    )
    started = time.perf_counter()

    def progress(p) -> None:  # noqa: ANN001
        if p.records % 1_024 == 0 or p.records == p.total:
            rate = p.report.embedded / max(time.perf_counter() - started, 1e-9)
            print(f"  {model}: {p.records}/{p.total} papers ({rate:.0f}/s)", end="\r", flush=True)

    report = embed_papers(engine, embedder, clock=lambda: datetime.now(UTC), on_progress=progress)
    if report.embedded:
        print(f"\n  {model}: embedded {report.embedded} papers at {report.rate:.1f}/s")
    search.refresh(force=True, save=True)
    return search


# --- metrics ------------------------------------------------------------------------------


def ndcg_at(ranked: list[str], relevant: dict[str, float], k: int = 10) -> float:
    gain = sum(
        (2 ** relevant[doc] - 1) / math.log2(rank + 1)
        for rank, doc in enumerate(ranked[:k], start=1)
        if doc in relevant
    )
    ideal = sum(
        (2**score - 1) / math.log2(rank + 1)
        for rank, score in enumerate(sorted(relevant.values(), reverse=True)[:k], start=1)
    )
    return gain / ideal if ideal else 0.0


def recall_at(ranked: list[str], relevant: dict[str, float], k: int = DEPTH) -> float:
    return len(set(ranked[:k]) & relevant.keys()) / len(relevant)


def reciprocal_rank(ranked: list[str], relevant: dict[str, float]) -> float:
    for rank, doc in enumerate(ranked, start=1):
        if doc in relevant:
            return 1.0 / rank
    return 0.0


def score_run(runs: dict[str, list[str]], qrels: dict[str, dict[str, float]]) -> dict:
    judged = [q for q in runs if q in qrels]
    n = max(len(judged), 1)
    return {
        "queries": len(judged),
        "ndcg@10": sum(ndcg_at(runs[q], qrels[q]) for q in judged) / n,
        "recall@100": sum(recall_at(runs[q], qrels[q]) for q in judged) / n,
        "mrr": sum(reciprocal_rank(runs[q], qrels[q]) for q in judged) / n,
        "success@10": sum(bool(set(runs[q][:10]) & qrels[q].keys()) for q in judged) / n,
    }


# --- running ------------------------------------------------------------------------------


def run_mode(search: SearchService, queries: list[dict], mode: str, to_beir: dict) -> tuple:
    runs: dict[str, list[str]] = {}
    notices: set[str] = set()
    started = time.perf_counter()
    for query in queries:
        response = search.search(query["text"], mode=mode, limit=DEPTH)
        runs[str(query["_id"])] = [to_beir.get(r["id"], r["id"]) for r in response.results]
        notices.update(n for n in response.notices if "semantic search is off" in n)
    per_query_ms = (time.perf_counter() - started) * 1000 / max(len(queries), 1)
    if notices:
        raise SystemExit(f"{mode} did not run as asked: {sorted(notices)}")
    return runs, per_query_ms


def evaluate(collection: Path, models: list[str]) -> list[dict]:
    corpus = read_jsonl(collection / "corpus.jsonl")
    queries = read_jsonl(collection / "queries.jsonl")
    qrels = read_qrels(collection / "qrels" / "test.tsv")
    queries = [q for q in queries if str(q["_id"]) in qrels]
    to_beir = {paper_id_for(str(d["_id"])): str(d["_id"]) for d in corpus}
    styles = {str(q["_id"]): (q.get("metadata") or {}).get("style") for q in queries}

    digest = hashlib.sha256((collection / "corpus.jsonl").read_bytes()).hexdigest()[:12]
    work = WORK / f"corpus-{digest}"
    work.mkdir(parents=True, exist_ok=True)
    engine = connect(f"sqlite:///{work / 'paperfeed.db'}")
    ensure_schema(engine, auto_migrate=True)
    load_corpus(engine, corpus)
    print(f"{collection.name}: {len(corpus)} documents, {len(queries)} judged queries")

    rows = []
    for model in models:
        search = prepare_model(engine, work / "index", model)
        for mode in MODES:
            if mode == "keyword" and model != models[0]:
                continue  # keyword results do not depend on the model
            runs, per_query_ms = run_mode(search, queries, mode, to_beir)
            row = {
                "collection": collection.name,
                "model": "-" if mode == "keyword" else model,
                "mode": mode,
                "ms_per_query": round(per_query_ms, 1),
                **score_run(runs, qrels),
            }
            by_style: dict[str, dict[str, list[str]]] = defaultdict(dict)
            for query_id, ranked in runs.items():
                if styles.get(query_id):
                    by_style[styles[query_id]][query_id] = ranked
            row["by_style"] = {s: score_run(r, qrels) for s, r in sorted(by_style.items())}
            rows.append(row)
            print_row(row)
    engine.dispose()
    (WORK / f"results-{collection.name}.json").write_text(json.dumps(rows, indent=2))
    return rows


def print_row(row: dict) -> None:
    print(
        f"  {row['mode']:<8} {row['model']:<17} nDCG@10 {row['ndcg@10']:.3f}  "
        f"recall@100 {row['recall@100']:.3f}  MRR {row['mrr']:.3f}  "
        f"success@10 {row['success@10']:.3f}  ({row['ms_per_query']} ms/query)"
    )
    for style, scores in row.get("by_style", {}).items():
        print(
            f"      {style:<9} n={scores['queries']:<4} nDCG@10 {scores['ndcg@10']:.3f}  "
            f"MRR {scores['mrr']:.3f}  recall@100 {scores['recall@100']:.3f}"
        )


def print_summary(rows: list[dict], models: list[str]) -> None:
    print("\n| collection | mode | model | nDCG@10 | recall@100 | MRR | success@10 |")
    print("|---|---|---|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['collection']} | {row['mode']} | {row['model']} | {row['ndcg@10']:.3f} "
            f"| {row['recall@100']:.3f} | {row['mrr']:.3f} | {row['success@10']:.3f} |"
        )
    for collection in dict.fromkeys(r["collection"] for r in rows):
        mine = {
            (r["mode"], r["model"]): r["ndcg@10"] for r in rows if r["collection"] == collection
        }
        keyword = mine[("keyword", "-")]
        for model in models:
            hybrid, semantic = mine[("hybrid", model)], mine[("semantic", model)]
            verdict = "MET" if hybrid > max(keyword, semantic) else "MISSED"
            print(
                f"{collection}, {model}: hybrid {hybrid:.3f} vs keyword {keyword:.3f} and "
                f"semantic {semantic:.3f} -> hybrid better than either: {verdict}"
            )
        if DEFAULT_MODEL in models and FAST_MODEL in models:
            gap = mine[("hybrid", DEFAULT_MODEL)] - mine[("hybrid", FAST_MODEL)]
            verdict = "MET" if gap <= 0.03 else "MISSED"
            print(
                f"{collection}: fast-mode hybrid is {gap * 100:.1f} nDCG points below the "
                f"default model's (goal: within 3) -> {verdict}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collection", type=Path, action="append", help="BEIR folder (repeatable)")
    parser.add_argument(
        "--models",
        default=f"{DEFAULT_MODEL},{FAST_MODEL}",
        help="comma-separated embedding models (default: %(default)s)",
    )
    args = parser.parse_args()
    collections = args.collection or []
    if not collections:
        known = known_item.default_dir("sample")
        if not (known / "qrels" / "test.tsv").exists():
            known_item.build(known)
        described = known_item.WORK / "described-10k"
        if not (described / "qrels" / "test.tsv").exists():
            known_item.build_described(described)
        collections = [known, described]
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    rows = []
    for collection in collections:
        rows += evaluate(collection, models)
    print_summary(rows, models)


if __name__ == "__main__":
    main()
