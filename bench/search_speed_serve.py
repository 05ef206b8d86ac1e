"""Steps 3 and 5 of bench/search_speed.py: the serve child, which times searches on built
indexes (SQLite or PostgreSQL), and its baselines: FTS5 MATCH and exact numpy search."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import numpy as np
from search_speed_measure import CLASSES, MODES, memory, say, spread, timed_ms

FTS_WARMUP = 5  # FTS5 OR queries take up to a second at 1M; a few warm the page cache enough


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


def fetch_page(engine, paper_ids: list[str]) -> int:
    from paperfeed.storage.papers import get_stored

    with engine.connect() as conn:
        return len(get_stored(conn, paper_ids))


def common_term_shares(tantivy, folder: Path, stem, terms: list[str]) -> dict[str, float]:
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


def vector_measurements(service, embeddings, queries: dict, ef_sweep: list[int]) -> dict:
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


def fts_match(text: str) -> str:
    """The FTS5 query for `text`: its words OR-ed, paperfeed's stopwords dropped likewise."""
    from paperfeed.search.keyword_query import STOPWORDS
    from paperfeed.search.query import words_of

    words = list(dict.fromkeys(w.lower() for w in words_of(text)))
    kept = [w for w in words if w not in STOPWORDS] or words
    return " OR ".join(f'"{w}"' for w in kept)
