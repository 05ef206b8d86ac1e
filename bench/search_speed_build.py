"""Steps 1 and 2 of bench/search_speed.py: the build child (SQLite database, keyword index,
fast model, embeddings, HNSW index) and the FTS5 baseline keyword index."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from search_speed_measure import database_mib, memory, say, size_mib, stage_recorder

BARE_BATCH = 32  # the batch size Embedder.encode passes to sentence-transformers


# --- child 1: build ---------------------------------------------------------------------------


def child_build(config: dict) -> dict:
    from paperfeed.ingest.run import now_utc
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
    stage = stage_recorder(stages, "build")

    load_corpus(engine, Path(config["corpus"]), stage, lambda: round(database_mib(database), 1))

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

    build_hnsw(service, engine, stage)

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


def embedding_run(engine, embedder, bare, *, texts, limit, clock, embed_papers) -> dict:
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


def load_corpus(engine, corpus: Path, stage, size_mib_now) -> None:
    """Step 1 on either database: the corpus through the real `ingest()`, as the "ingest" stage."""
    from paperfeed.ingest.run import ingest
    from paperfeed.ingest.sources.bulk_file import BulkFileSource

    started = time.perf_counter()
    source = BulkFileSource(corpus, file_format="arxiv-snapshot", batch_size=1000)
    report = ingest(source, engine)
    papers = report.new + report.updated + report.unchanged
    stage("ingest", started, papers=papers, failed=report.failed, database_mib=size_mib_now())


def build_hnsw(service, engine, stage) -> None:
    """The node's HNSW index from the stored vectors, then saved: two stages."""
    vectors = service.vector_index()
    started = time.perf_counter()
    written = vectors.sync(engine)
    stage("HNSW index", started, papers=written)
    started = time.perf_counter()
    vectors.save()
    stage("HNSW save", started, disk_mib=round(size_mib(vectors.directory), 1))


def first_texts(engine, count: int) -> list[str]:
    """The texts embed_papers embeds first (candidates go in (last_changed_at, id) order)."""
    import sqlalchemy as sa

    from paperfeed.search.embedder import embedded_text
    from paperfeed.storage.tables import papers

    query = (
        sa.select(papers.c.title, papers.c.abstract)
        .order_by(papers.c.last_changed_at, papers.c.id)
        .limit(count)
    )
    with engine.connect() as conn:
        return [embedded_text(title, abstract) for title, abstract in conn.execute(query)]


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
