"""Step 7 of bench/search_speed.py: the freshness child, which times how long a paper
ingested on one node takes to be found by a second node's searches."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
from search_speed_measure import say

SEED_FRESHNESS = 20261201
PROBE_PREFIX = "9912.9"  # the freshness test's paper ids; no corpus copy's year reaches 99
POLL_S = 0.05
FRESHNESS_TIMEOUT_S = 60.0


def age_corpus(engine, days: int = 1) -> None:
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


def ingest_probe(writer, run_dir: Path, template: dict, token: str) -> dict:
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


def wait_for(node, text: str, mode: str, paper_id: str | None, timeout_s: float) -> float | None:
    """Search on `node` every POLL_S until `paper_id` is on the first page (None: just keep
    searching for timeout_s); seconds waited, or None after timeout_s."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        response = node.search(text, mode=mode, limit=10)
        if paper_id is not None and any(r["id"] == paper_id for r in response.results):
            return round(time.perf_counter() - started, 3)
        time.sleep(POLL_S)
    return None
