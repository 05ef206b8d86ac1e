"""The fast embedding mode: a static model distilled from the default transformer.

A static model gives each word piece one fixed vector and embeds a text as the mean of its
pieces' vectors — no attention, so it embeds thousands of abstracts per second where
MiniLM manages about 25 on two cores. The method is model2vec's ("distill"), done here with
the libraries paperfeed already has:
1. run MiniLM on every vocabulary piece alone ([CLS] piece [SEP]) and mean-pool the output;
2. reduce to 256 dimensions with PCA (less memory; noise in the tail components goes too);
3. weight each piece by a/(a + p(piece)) (smooth inverse frequency), with p counted on the
   papers in the database when there are enough of them, else estimated from vocabulary rank.
The result is saved as an ordinary sentence-transformers folder (a StaticEmbedding module), so
the embedder loads it like any other model. What it costs in quality is in docs/ranking.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import sqlalchemy as sa

from paperfeed.search.embedder import (
    DEFAULT_MODEL,
    embedded_text,
    load_sentence_transformer,
    resolve_model_path,
)

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

log = logging.getLogger(__name__)

PCA_DIMS = 256
SIF_A = 1e-3
MIN_CORPUS_PAPERS = 1_000
CORPUS_SAMPLE = 50_000
_BATCH = 512


def ensure_fast_model(
    directory: Path, engine: sa.Engine | None, *, echo: Callable[[str], None] = log.info
) -> Path:
    """The fast model's folder, distilling it first when it does not exist yet."""
    if (directory / "modules.json").exists():
        return directory
    echo(f"distilling the fast embedding model from {DEFAULT_MODEL} (once; about a minute)")
    texts = _corpus_sample(engine) if engine is not None else []
    distill(resolve_model_path(DEFAULT_MODEL, directory), directory, corpus=texts)
    return directory


def distill(base_model_path: str, out_dir: Path, *, corpus: Sequence[str] = ()) -> None:
    base = load_sentence_transformer(base_model_path)
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding, Transformer

    first_module = base[0]
    assert isinstance(first_module, Transformer)  # MiniLM: a transformer, then pooling
    transformer = first_module.auto_model
    tokenizer = base.tokenizer
    vocab = tokenizer.get_vocab()
    special = set(tokenizer.all_special_ids)
    ids = sorted(
        i for token, i in vocab.items() if i not in special and not token.startswith("[unused")
    )
    vectors = np.zeros((len(vocab), transformer.config.hidden_size), dtype=np.float32)
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    with torch.inference_mode():
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            input_ids = torch.tensor([[cls, i, sep] for i in chunk])
            output = transformer(input_ids=input_ids, attention_mask=torch.ones_like(input_ids))
            vectors[chunk] = output.last_hidden_state.mean(dim=1).numpy()
    reduced = np.zeros((len(vocab), PCA_DIMS), dtype=np.float32)
    reduced[ids] = _pca(vectors[ids], PCA_DIMS)
    reduced *= _sif_weights(tokenizer, len(vocab), ids, corpus)[:, None]
    backend = tokenizer.backend_tokenizer
    backend.no_truncation()
    backend.no_padding()
    static = StaticEmbedding(backend, embedding_weights=reduced)
    out_dir.mkdir(parents=True, exist_ok=True)
    SentenceTransformer(modules=[static], device="cpu").save(str(out_dir))
    log.info("fast model written to %s (%d pieces, %d dims)", out_dir, len(ids), PCA_DIMS)


def _pca(matrix: np.ndarray, dims: int) -> np.ndarray:
    centered = matrix - matrix.mean(axis=0)
    _, _, components = np.linalg.svd(centered, full_matrices=False)
    projected: np.ndarray = centered @ components[:dims].T
    return projected.astype(np.float32)


def _sif_weights(
    tokenizer: PreTrainedTokenizerFast, vocab_size: int, ids: list[int], corpus: Sequence[str]
) -> np.ndarray:
    counts = np.zeros(vocab_size, dtype=np.float64)
    if len(corpus) >= MIN_CORPUS_PAPERS:
        for encoding in tokenizer.backend_tokenizer.encode_batch(corpus, add_special_tokens=False):
            np.add.at(counts, encoding.ids, 1)
        counts += 1.0  # a piece never seen is rare, not impossible
        probability = counts / counts.sum()
    else:
        # Without a corpus, assume the vocabulary is roughly in frequency order (Zipf's law).
        ranks = np.arange(1, vocab_size + 1, dtype=np.float64)
        probability = (1.0 / ranks) / np.sum(1.0 / ranks)
    weights = SIF_A / (SIF_A + probability)
    mask = np.zeros(vocab_size, dtype=bool)
    mask[ids] = True
    return np.where(mask, weights, 0.0).astype(np.float32)


def _corpus_sample(engine: sa.Engine) -> list[str]:
    from paperfeed.storage.tables import papers

    with engine.connect() as conn:
        rows = conn.execute(sa.select(papers.c.title, papers.c.abstract).limit(CORPUS_SAMPLE)).all()
    return [embedded_text(title, abstract) for title, abstract in rows]
