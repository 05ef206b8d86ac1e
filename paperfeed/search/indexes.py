"""The derived search indexes of one database, and the embedding model: opened on first use,
kept current from the database, rebuilt on demand. search/service.py answers queries with them.

The database is the truth; the keyword index (search/keyword.py) and the vector index
(search/vectors.py) are per-process files under `index_dir` that catch up with it every
`refresh_s` seconds, in a background thread so no search waits for the check.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from paperfeed.errors import ModelUnavailable
from paperfeed.search.embedder import Embedder, resolve_model_path
from paperfeed.search.keyword import KeywordIndex
from paperfeed.search.vectors import VectorIndex

log = logging.getLogger(__name__)


def index_fingerprint(database_url: str) -> str:
    """A folder name per database, so indexes of two databases never mix."""
    url = sa.make_url(database_url).render_as_string(hide_password=True)
    return hashlib.blake2b(url.encode(), digest_size=6).hexdigest()


class SearchIndexes:
    def __init__(
        self,
        engine: sa.Engine,
        *,
        index_dir: Path,
        model: str,
        ef_search: int = 512,
        refresh_s: float = 5.0,
        embedder: Embedder | None = None,
    ) -> None:
        self.engine = engine
        self.directory = Path(index_dir) / index_fingerprint(str(engine.url))
        self.model = model
        self.ef_search = ef_search
        self.refresh_s = refresh_s
        self._embedder = embedder
        self._embedder_error: str | None = None
        self._keyword: KeywordIndex | None = None
        self._vectors: VectorIndex | None = None
        self._refreshed_at = float("-inf")
        self._lock = threading.Lock()

    # --- parts, opened on first use --------------------------------------------------------

    @property
    def fast_model_dir(self) -> Path:
        return self.directory.parent / "models" / "fast"

    def embedder(self) -> Embedder | None:
        """The loaded model, or None (with the reason kept for a notice) when it cannot load."""
        if self._embedder is None and self._embedder_error is None:
            try:
                self._embedder = Embedder(
                    self.model, resolve_model_path(self.model, self.fast_model_dir)
                ).load()
            except ModelUnavailable as exc:
                self._embedder_error = str(exc)
                log.warning("%s", exc)
        return self._embedder

    @property
    def model_problem(self) -> str | None:
        return self._embedder_error

    def keyword_index(self) -> KeywordIndex:
        if self._keyword is None:
            self._keyword = KeywordIndex.open(self.directory / "keyword")
        return self._keyword

    def vector_index(self) -> VectorIndex:
        if self._vectors is None:
            slug = hashlib.blake2b(self.model.encode(), digest_size=6).hexdigest()
            self._vectors = VectorIndex(
                self.directory / f"vectors-{slug}", self.model, ef_search=self.ef_search
            )
        return self._vectors

    def refresh(self, *, force: bool = False, save: bool = False) -> dict[str, int]:
        """Catch the indexes up with the database (at most every refresh_s seconds)."""
        with self._lock:
            if not force and time.monotonic() - self._refreshed_at < self.refresh_s:
                return {"keyword": 0, "vectors": 0}
            return self._sync(save, recount=force)

    def _refresh_soon(self) -> None:
        """What a search calls: the first time, and with refresh_s = 0, catch up now; later,
        in a background thread, so no search waits for the check (well under a millisecond
        between full counts, ~70-160 ms for a count at a million papers).
        """
        if self._refreshed_at == float("-inf") or self.refresh_s == 0:
            self.refresh()
            return
        if time.monotonic() - self._refreshed_at < self.refresh_s:
            return
        if self._lock.acquire(blocking=False):
            self._refreshed_at = time.monotonic()  # one check at a time
            threading.Thread(target=self._background_sync, daemon=True).start()

    def _background_sync(self) -> None:
        try:
            self._sync(save=False)
        except Exception:  # a failed check is retried at the next interval; searches go on
            log.exception("search index refresh failed")
        finally:
            self._lock.release()

    def _sync(self, save: bool, *, recount: bool = False) -> dict[str, int]:
        """Bring both indexes up to date; the caller holds the lock. `recount` (a forced
        refresh, as `paperfeed index` does) also notices at once a removal that left the
        newest stamp alone, which a routine check finds within RECOUNT_S."""
        written = {
            "keyword": self.keyword_index().sync(self.engine, recount=recount),
            "vectors": self.vector_index().sync(self.engine, recount=recount),
        }
        if save:
            self.vector_index().save()
        self._refreshed_at = time.monotonic()
        return written

    def rebuild(self) -> None:
        """Throw the derived indexes away and build them again from the database."""
        with self._lock:
            self._keyword = KeywordIndex.open(self.directory / "keyword", rebuild=True)
            vectors = self.vector_index()
            for name in ("hnsw.bin", "ids.json", "state.json"):
                (vectors.directory / name).unlink(missing_ok=True)
            self._vectors = None
            self._refreshed_at = float("-inf")
