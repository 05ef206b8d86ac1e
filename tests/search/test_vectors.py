"""The vector index catching up with the database: only what is new goes in, a vector
committed late still does, and searches go on while a long catch-up runs."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import numpy as np

from paperfeed.search.vectors import VectorIndex
from paperfeed.storage import embeddings
from paperfeed.storage.db import writing
from tests.search.conftest import T0, add, paper

MODEL = "test-model"


def unit_vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, 16)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def store(engine, ids: list[str], vectors: np.ndarray, at) -> None:
    with writing(engine) as conn:
        rows = [(pid, "hash", T0) for pid in ids]
        embeddings.save_vectors(conn, MODEL, rows, vectors, at)


def test_a_catch_up_adds_only_what_is_new_or_was_committed_late(engine, tmp_path):
    ids = [f"2401.{n:05d}" for n in range(60)]
    add(engine, *[paper(pid, f"Paper {pid}") for pid in ids])
    vectors = unit_vectors(60, seed=1)
    store(engine, ids[:50], vectors[:50], T0)
    index = VectorIndex(tmp_path / "vectors", MODEL)
    assert index.sync(engine) == 50
    # Within the catch-up slack of the last sync: the 50 are read again but not re-inserted.
    store(engine, ids[50:51], vectors[50:51], T0 + timedelta(minutes=1))
    assert index.sync(engine) == 1
    # A vector replaced by a transaction that began before the watermark still goes in.
    replaced = unit_vectors(1, seed=2)
    store(engine, ids[:1], replaced, T0 - timedelta(minutes=2))
    store(engine, ids[51:52], vectors[51:52], T0 + timedelta(minutes=3))
    assert index.sync(engine) == 2
    assert np.allclose(index.vectors_of([ids[0]])[ids[0]], replaced[0])
    assert index.search(replaced[0], 1)[0].paper_id == ids[0]


def test_searches_are_answered_while_a_long_catch_up_runs(engine, tmp_path):
    ids = [f"2402.{n:05d}" for n in range(3000)]
    add(engine, *[paper(pid, f"Paper {pid}") for pid in ids])
    vectors = unit_vectors(3000, seed=3)
    store(engine, ids[:10], vectors[:10], T0)
    index = VectorIndex(tmp_path / "vectors", MODEL)
    index.sync(engine)
    store(engine, ids[10:], vectors[10:], T0 + timedelta(hours=1))
    catching_up = threading.Thread(target=index.sync, args=(engine,))
    catching_up.start()
    waits = []
    while catching_up.is_alive():
        started = time.perf_counter()
        assert index.search(vectors[0], 5)
        waits.append(time.perf_counter() - started)
        time.sleep(0.005)
    catching_up.join()
    assert index.size == 3000
    assert len(waits) >= 3  # searches ran during the catch-up, not after it
    assert max(waits) < 1.0, max(waits)
