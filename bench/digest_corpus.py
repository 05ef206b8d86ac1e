"""Steps 1-4 of bench/digest.py's database: the 83k arXiv records through `ingest()`, the
week's announcement times, MiniLM vectors and the trending readings (built once)."""

from __future__ import annotations

import json
import random
import shutil
import time
from datetime import UTC, datetime, timedelta

import ingest as ingest_bench  # a sibling script, not a package
from common import recorded_days
from digest_common import BACKFILL_AT, DAY_START, HOME, MODEL, SEED, WORK, engine_of, say

SIGNALS_AT = DAY_START + timedelta(hours=6)
ANNOUNCED_BY = DAY_START + timedelta(hours=20)
VOTED_PAPERS = 150


class _Readings:
    """A source of one batch of signals, so they are stored through the real `ingest()`."""

    name = "hf-daily"

    def __init__(self, batch) -> None:
        self._batch = batch

    def checkpoint_key(self) -> None:
        return None

    def batches(self, checkpoint):
        yield self._batch


def build_database(rebuild: bool) -> dict:
    marker = WORK / "build.json"
    if marker.exists() and not rebuild:
        return json.loads(marker.read_text())
    import sqlalchemy as sa

    from paperfeed.ingest.run import ingest
    from paperfeed.ingest.sources.bulk_file import BulkFileSource
    from paperfeed.storage.db import migrate, writing
    from paperfeed.storage.tables import papers

    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    corpus = ingest_bench.build_corpora(["83k"])["83k"]
    engine = engine_of()
    migrate(engine)
    steps = {}
    started = time.perf_counter()
    say("build: ingest the 83k arXiv records")
    source = BulkFileSource(corpus, file_format="arxiv-snapshot", batch_size=1000)
    report = ingest(source, engine, clock=lambda: BACKFILL_AT)
    steps["ingest"] = round(time.perf_counter() - started, 1)

    week_start = DAY_START - timedelta(days=6)
    with writing(engine) as conn:
        rows = conn.execute(
            sa.select(papers.c.id, papers.c.published_at).where(
                papers.c.published_at >= week_start - timedelta(days=1),
                papers.c.published_at < DAY_START + timedelta(days=1),
            )
        ).all()
        for paper_id, published_at in rows:
            seen = min(published_at.replace(tzinfo=UTC) + timedelta(hours=24), ANNOUNCED_BY)
            conn.execute(
                sa.update(papers).where(papers.c.id == paper_id).values(first_seen_at=seen)
            )
        voted = conn.execute(
            sa.select(papers.c.id)
            .where(
                papers.c.published_at >= week_start - timedelta(days=8),
                papers.c.published_at < week_start - timedelta(days=1),
            )
            .order_by(papers.c.id)
        ).scalars()
        voted = random.Random(SEED).sample(list(voted), VOTED_PAPERS)
    week = sorted(pid for pid, _ in rows)

    started = time.perf_counter()
    say(f"build: embed {len(week) + len(voted)} papers with {MODEL}")
    embed(engine, week + voted)
    steps["embed"] = round(time.perf_counter() - started, 1)

    say("build: trending readings")
    readings = write_readings(engine, week)
    engine.dispose()
    build = {
        "built_at": datetime.now(UTC).isoformat(),
        "papers": report.new,
        "announced_in_week": len(week),
        "voted_papers": voted,
        "hf_readings": readings,
        "steps": steps,
    }
    marker.write_text(json.dumps(build, indent=1))
    return build


def embed(engine, ids: list[str]) -> None:
    from paperfeed.search.embedder import Embedder, embedded_text, resolve_model_path, text_hash
    from paperfeed.storage import embeddings, papers
    from paperfeed.storage.db import writing

    embedder = Embedder(MODEL, resolve_model_path(MODEL, HOME / "index" / "fast-model"))
    with engine.connect() as conn:
        stored = papers.get_stored(conn, ids)
    rows, texts = [], []
    for pid in ids:
        paper = stored[pid].paper
        text = embedded_text(paper.title, paper.abstract)
        rows.append((pid, text_hash(MODEL, text), stored[pid].last_changed_at))
        texts.append(text)
    vectors = embedder.encode(texts)
    with writing(engine) as conn:
        embeddings.save_vectors(conn, MODEL, rows, vectors, datetime.now(UTC))


def write_readings(engine, week: list[str]) -> int:
    from paperfeed.ingest.run import ingest
    from paperfeed.models import Batch, Signal

    rng = random.Random(SEED)
    shuffled = list(week)
    rng.shuffle(shuffled)
    fresh = iter(shuffled)
    readings = []
    for age_days, finals in enumerate(reversed(recorded_days(7))):
        listed_at = DAY_START + timedelta(hours=20) - timedelta(days=age_days)
        for final in finals:
            paper_id = next(fresh)
            at = listed_at
            while at < DAY_START + timedelta(days=1):
                hours = (at - listed_at).total_seconds() / 3600
                value = round(final * (1 - 0.5 ** (hours / 12)))
                readings.append(Signal(paper_id, "hf", "upvotes", float(value), at))
                at += timedelta(hours=2)
    report = ingest(_Readings(Batch(signals=readings)), engine, clock=lambda: SIGNALS_AT)
    return report.signals
