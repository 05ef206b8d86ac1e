"""The approximate-nearest-neighbour index over stored paper vectors (HNSW, via hnswlib).

Like the keyword index it is derived data: the vectors live in the database (table
embeddings), and `sync` catches up from embeddings.embedded_at. A paper whose vector is
removed (the paper was removed) is noticed by the counts and marked deleted in the graph; a
re-embedded paper has its vector replaced in place. `save` writes the graph beside the
keyword index, so the next process starts from it instead of rebuilding.

Why HNSW and these parameters: exact search costs about 80 ms per query at a million papers,
HNSW about 1 ms. Short text queries land far from every abstract, where HNSW finds true
neighbours least well: with M = 16 and ef_search = 128, recall@10 was 0.84 at 100,000 papers;
M = 24, ef_construction = 200 and ef_search = 512 bring it to 0.96 (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import hnswlib
import numpy as np
import sqlalchemy as sa

from paperfeed.errors import SearchError
from paperfeed.storage import embeddings, search_source
from paperfeed.storage.embeddings import StoredVector

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: M = 24, ef_construction = 200
HNSW_M = 24
HNSW_EF_CONSTRUCTION = 200
CATCH_UP_SLACK = search_source.LATE_COMMIT_SLACK
RECOUNT_S = 60.0  # as in search.keyword: count only when the newest stamp moved, or after this
_GROW = 1.5
UPSERT_CHUNK = 500  # vectors added per hold of the graph lock


@dataclass(frozen=True)
class VectorHit:
    paper_id: str
    similarity: float


class VectorIndex:
    def __init__(self, directory: Path, model: str, *, ef_search: int = 512) -> None:
        self.directory = directory
        self.model = model
        self.ef_search = ef_search
        self._lock = threading.RLock()  # the graph and its id maps
        self._sync_lock = threading.Lock()  # one catch-up at a time
        self._graph: hnswlib.Index | None = None
        self._ids: list[str | None] = []  # label -> paper id (None: deleted)
        self._labels: dict[str, int] = {}
        self._state: dict[str, Any] = {}
        self._dirty = False
        self._counted_at = float("-inf")
        self._load()

    # --- persistence -----------------------------------------------------------------------

    def _load(self) -> None:
        try:
            state = json.loads((self.directory / "state.json").read_text())
            if state.get("version") != FORMAT_VERSION or state.get("model") != self.model:
                return
            ids = json.loads((self.directory / "ids.json").read_text())
            graph = hnswlib.Index(space="ip", dim=state["dims"])
            graph.load_index(
                str(self.directory / "hnsw.bin"),
                max_elements=max(len(ids), 1),
                allow_replace_deleted=False,
            )
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            if (self.directory / "state.json").exists():
                log.warning(
                    "vector index in %s is unreadable (%s); rebuilding", self.directory, exc
                )
            return
        graph.set_ef(self.ef_search)
        self._graph, self._ids, self._state = graph, ids, state
        self._labels = {
            paper_id: label for label, paper_id in enumerate(ids) if paper_id is not None
        }

    def save(self) -> None:
        """Write the graph and its id map atomically (each file replaced by a rename)."""
        with self._lock:
            if not self._dirty or self._graph is None:
                return
            self.directory.mkdir(parents=True, exist_ok=True)
            suffix = f".tmp{os.getpid()}"
            try:
                self._graph.save_index(str(self.directory / f"hnsw.bin{suffix}"))
                (self.directory / f"ids.json{suffix}").write_text(json.dumps(self._ids))
                (self.directory / f"state.json{suffix}").write_text(json.dumps(self._state))
                for name in ("hnsw.bin", "ids.json", "state.json"):
                    (self.directory / f"{name}{suffix}").replace(self.directory / name)
            except OSError as exc:
                raise SearchError(
                    f"cannot save the vector index in {self.directory}: {exc}"
                ) from exc
            self._dirty = False

    # --- keeping current -------------------------------------------------------------------

    @property
    def size(self) -> int:
        return len(self._labels)

    def sync(self, engine: sa.Engine, *, recount: bool = False) -> int:
        """Apply vectors stored since the last sync; returns how many were added or replaced.

        Searches go on meanwhile: the graph is locked only while a chunk of UPSERT_CHUNK
        vectors goes in (~0.1 s), not for the whole catch-up (minutes after a bulk load)."""
        with self._sync_lock, engine.connect() as conn:
            if not recount and time.monotonic() - self._counted_at < RECOUNT_S:
                newest = embeddings.latest_embedded_at(conn, self.model)
                if self._state.get("latest") == (newest.isoformat() if newest else None):
                    return 0
            count, latest = embeddings.model_state(conn, self.model)
            self._counted_at = time.monotonic()
            latest_text = latest.isoformat() if latest else None
            if self._state.get("count") == count and self._state.get("latest") == latest_text:
                return 0
            watermark = self._state.get("latest")
            applied = datetime.fromisoformat(watermark) if watermark else None
            since = applied - CATCH_UP_SLACK if applied else None
            written = 0
            for page in embeddings.vectors_since(conn, self.model, since):
                if applied is not None:
                    page = self._not_applied(page, applied)
                for start in range(0, len(page), UPSERT_CHUNK):
                    chunk = page[start : start + UPSERT_CHUNK]
                    with self._lock:
                        self._upsert(
                            [v.paper_id for v in chunk], np.stack([v.vector for v in chunk])
                        )
                written += len(page)
            if self.size != count:
                with self._lock:
                    written += self._reconcile(conn)
            with self._lock:
                self._state = {
                    "version": FORMAT_VERSION,
                    "model": self.model,
                    "dims": self._graph.dim if self._graph is not None else 0,
                    "count": count,
                    "latest": latest_text,
                }
                self._dirty = True
            return written

    def _not_applied(self, page: list[StoredVector], applied: datetime) -> list[StoredVector]:
        """The slack re-reads the last minutes for rows committed late; rows already in the
        graph with the same vector need not go in again (after a bulk load that is all of
        them, and inserting is what costs)."""
        seen = [v for v in page if v.embedded_at <= applied and v.paper_id in self._labels]
        if not seen:
            return page
        with self._lock:
            labels = [self._labels[v.paper_id] for v in seen]
            assert self._graph is not None  # a paper has a label once the graph holds it
            held = self._graph.get_items(labels, return_type="numpy")
        same = {v.paper_id for v, row in zip(seen, held, strict=True) if np.allclose(row, v.vector)}
        return [v for v in page if v.paper_id not in same]

    def _upsert(self, paper_ids: list[str], vectors: np.ndarray) -> None:
        if self._graph is None:
            self._graph = hnswlib.Index(space="ip", dim=vectors.shape[1])
            self._graph.init_index(
                max_elements=max(1024, len(paper_ids)),
                ef_construction=HNSW_EF_CONSTRUCTION,
                M=HNSW_M,
            )
            self._graph.set_ef(self.ef_search)
        if vectors.shape[1] != self._graph.dim:
            raise SearchError(
                f"model {self.model!r} gave {vectors.shape[1]}-dimensional vectors but the index "
                f"holds {self._graph.dim}; run `paperfeed index --rebuild`"
            )
        labels = []
        for paper_id in paper_ids:
            label = self._labels.get(paper_id)
            if label is None:
                label = len(self._ids)
                self._ids.append(paper_id)
                self._labels[paper_id] = label
            labels.append(label)
        needed = len(self._ids)
        if needed > self._graph.get_max_elements():
            self._graph.resize_index(int(needed * _GROW))
        self._graph.add_items(
            vectors, np.asarray(labels, dtype=np.int64), num_threads=min(2, os.cpu_count() or 1)
        )

    def _reconcile(self, conn: sa.Connection) -> int:
        stored = embeddings.model_ids(conn, self.model)
        removed = [pid for pid in self._labels if pid not in stored]
        for paper_id in removed:
            label = self._labels.pop(paper_id)
            assert self._graph is not None  # a paper has a label once the graph holds it
            self._graph.mark_deleted(label)
            self._ids[label] = None
        missing = sorted(stored - self._labels.keys())
        if missing:
            found = embeddings.get_vectors(conn, self.model, missing)
            self._upsert(list(found), np.stack(list(found.values())))
        log.info("vector index reconciled: %d removed, %d added", len(removed), len(missing))
        return len(removed) + len(missing)

    # --- searching -------------------------------------------------------------------------

    def search(
        self, vector: np.ndarray, k: int, *, exclude: Collection[str] = frozenset()
    ) -> list[VectorHit]:
        with self._lock:
            if self._graph is None or not self._labels:
                return []
            want = min(k + len(exclude), len(self._labels))
            self._graph.set_ef(max(self.ef_search, want))
            labels, distances = self._graph.knn_query(
                np.asarray(vector, dtype=np.float32).reshape(1, -1), k=want
            )
        hits = []
        for label, distance in zip(labels[0], distances[0], strict=True):
            paper_id = self._ids[label]
            if paper_id is None or paper_id in exclude:
                continue
            hits.append(VectorHit(paper_id, 1.0 - float(distance)))
        return hits[:k]

    def vectors_of(self, paper_ids: list[str]) -> dict[str, np.ndarray]:
        with self._lock:
            known = [pid for pid in paper_ids if pid in self._labels]
            if not known:
                return {}
            assert self._graph is not None  # a paper has a label once the graph holds it
            rows = self._graph.get_items([self._labels[pid] for pid in known], return_type="numpy")
        return {
            pid: np.asarray(row, dtype=np.float32) for pid, row in zip(known, rows, strict=True)
        }
