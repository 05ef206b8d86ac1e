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
import gzip
import hashlib
import json
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import known_item  # noqa: E402
import numpy as np  # noqa: E402
from quality_baselines import TextbookBM25, exact_dense, plain_rrf  # noqa: E402
from quality_report import print_row, print_summary, with_differences, write_docs  # noqa: E402
from quality_stats import DEPTH, METRICS, mean, per_query, read_qrels, summary  # noqa: E402

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
from paperfeed.storage import embeddings  # noqa: E402
from paperfeed.storage.db import connect, ensure_schema, writing  # noqa: E402
from paperfeed.storage.papers import insert_papers  # noqa: E402

WORK = ROOT / "bench" / ".work" / "quality"
SHARED = ROOT.parent / "shared" / "data" / "D_retrieval_collections"
LOAD_BATCH = 1_000
# Papers in a BEIR corpus carry no dates; one fixed instant keeps every run the same.
UNDATED = datetime(2024, 1, 1, tzinfo=UTC)


def read_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def corpus_file(collection: Path) -> Path:
    plain = collection / "corpus.jsonl"
    return plain if plain.exists() else collection / "corpus.jsonl.gz"


def paper_id_for(beir_id: str) -> str:
    """paperfeed keeps arXiv ids as they are; any other id becomes a local one."""
    if looks_like_arxiv_id(beir_id):
        return parse_arxiv_id(beir_id)[0]
    return f"local:{beir_id}"


def load_corpus(engine, corpus: list[dict]) -> None:
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


def prepare_model(engine, index_dir: Path, model: str) -> SearchService:
    search = SearchService(engine, index_dir=index_dir, model=model, refresh_s=3600)
    if model == FAST_MODEL:
        ensure_fast_model(search.fast_model_dir, engine, echo=print)
    embedder = Embedder(model, resolve_model_path(model, search.fast_model_dir)).load()
    search = SearchService(
        engine, index_dir=index_dir, model=model, refresh_s=3600, embedder=embedder
    )
    started = time.perf_counter()

    def progress(p) -> None:
        if p.records % 1_024 == 0 or p.records == p.total:
            rate = p.report.embedded / max(time.perf_counter() - started, 1e-9)
            print(f"  {model}: {p.records}/{p.total} papers ({rate:.0f}/s)", end="\r", flush=True)

    report = embed_papers(engine, embedder, clock=lambda: datetime.now(UTC), on_progress=progress)
    if report.embedded:
        print(f"\n  {model}: embedded {report.embedded} papers at {report.rate:.1f}/s")
    search.refresh(force=True, save=True)
    return search


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


def open_collection(collection: Path):
    """(engine, corpus, judged queries, qrels, paperfeed id -> collection id, work folder)."""
    corpus = read_jsonl(corpus_file(collection))
    queries = read_jsonl(collection / "queries.jsonl")
    qrels = read_qrels(collection / "qrels" / "test.tsv")
    queries = [q for q in queries if str(q["_id"]) in qrels]
    to_beir = {paper_id_for(str(d["_id"])): str(d["_id"]) for d in corpus}
    digest = hashlib.sha256(corpus_file(collection).read_bytes()).hexdigest()[:12]
    work = WORK / f"corpus-{digest}"
    work.mkdir(parents=True, exist_ok=True)
    engine = connect(f"sqlite:///{work / 'paperfeed.db'}")
    ensure_schema(engine, auto_migrate=True)
    load_corpus(engine, corpus)
    return engine, corpus, queries, qrels, to_beir, work


def baseline_runs(engine, corpus: list[dict], queries: list[dict], search: SearchService) -> dict:
    """The textbook BM25 and plain RRF of it with exact MiniLM search, for the same queries."""
    doc_ids = [str(d["_id"]) for d in corpus]
    bm25 = TextbookBM25(doc_ids, [f"{d.get('title') or ''} {d.get('text') or ''}" for d in corpus])
    with engine.connect() as conn:
        stored = embeddings.get_vectors(conn, DEFAULT_MODEL, [paper_id_for(i) for i in doc_ids])
    kept = [i for i in doc_ids if paper_id_for(i) in stored]
    matrix = np.stack([stored[paper_id_for(i)] for i in kept])
    embedder = search.embedder()
    bm25_runs, rrf_runs = {}, {}
    for query in queries:
        query_id = str(query["_id"])
        bm25_runs[query_id] = bm25.search(query["text"])
        vector = embedder.encode([query["text"]])[0]
        rrf_runs[query_id] = plain_rrf(bm25_runs[query_id], exact_dense(matrix, kept, vector))
    return {"BM25": bm25_runs, "RRF": rrf_runs}


def evaluate(collection: Path, models: list[str]) -> list[dict]:
    engine, corpus, queries, qrels, to_beir, work = open_collection(collection)
    print(f"{collection.name}: {len(corpus)} documents, {len(queries)} judged queries")
    styles = {str(q["_id"]): (q.get("metadata") or {}).get("style") for q in queries}
    rows = []
    baselines: dict = {}
    for model in models:
        search = prepare_model(engine, work / "index", model)
        if model == DEFAULT_MODEL or (not baselines and model == models[-1]):
            baselines = baseline_runs(engine, corpus, queries, search)
        for mode in MODES:
            if mode == "keyword" and model != models[0]:
                continue  # keyword results do not depend on the model
            runs, per_query_ms = run_mode(search, queries, mode, to_beir)
            rows.append(
                row_of(
                    collection.name,
                    mode,
                    "-" if mode == "keyword" else model,
                    runs,
                    qrels,
                    styles,
                    per_query_ms,
                )
            )
    for name, runs in baselines.items():
        rows.append(row_of(collection.name, name, "baseline", runs, qrels, styles, 0.0))
    engine.dispose()
    with_differences(rows)
    for row in rows:
        print_row(row)
    (WORK / f"results-{collection.name}.json").write_text(json.dumps(rows, indent=2))
    return rows


def row_of(collection, system, model, runs, qrels, styles, ms) -> dict:
    scores = per_query(runs, qrels)
    row = {
        "collection": collection,
        "mode": system,
        "model": model,
        "queries": len(qrels),
        "ms_per_query": round(ms, 1),
        "per_query": scores,
        **{metric: summary(values) for metric, values in scores.items()},
    }
    by_style: dict[str, list[str]] = defaultdict(list)
    for query_id, style in styles.items():
        if style:
            by_style[style].append(query_id)
    row["by_style"] = {
        style: {m: mean([scores[m][q] for q in ids]) for m in METRICS}
        for style, ids in sorted(by_style.items())
    }
    return row


def default_collections() -> list[Path]:
    """The four judged collections of ../shared/data (when present), then the in-repo sets."""
    collections = [
        SHARED / name for name in ("med", "cran", "npl", "cisi") if (SHARED / name).is_dir()
    ]
    known = known_item.default_dir("sample")
    if not (known / "qrels" / "test.tsv").exists():
        known_item.build(known)
    described = known_item.WORK / "described-10k"
    if not (described / "qrels" / "test.tsv").exists():
        known_item.build_described(described)
    return collections + [known, described]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collection", type=Path, action="append", help="BEIR folder (repeatable)")
    parser.add_argument(
        "--models",
        default=f"{DEFAULT_MODEL},{FAST_MODEL}",
        help="comma-separated embedding models (default: %(default)s)",
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="regenerate the table in docs/benchmarks.md and docs/ranking.md",
    )
    args = parser.parse_args()
    collections = args.collection or default_collections()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    rows = []
    for collection in collections:
        rows += evaluate(collection, models)
    print_summary(rows)
    if args.write_docs:
        write_docs(
            rows,
            [ROOT / "docs" / "benchmarks.md", ROOT / "docs" / "ranking.md"],
            ".venv/bin/python bench/search_quality.py --write-docs",
            datetime.now(UTC).date().isoformat(),
        )


if __name__ == "__main__":
    main()
