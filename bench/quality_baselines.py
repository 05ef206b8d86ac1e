"""The textbook baselines paperfeed's search is measured against, in the same run.

- `TextbookBM25`: bm25s (k1 1.5, b 0.75, its English stopwords, PyStemmer "english"), title and
  abstract indexed together as one field: the BM25 of the IR textbooks and of the collections'
  published reference figures.
- `exact_dense`: exact cosine top-k over the stored vectors of a model (no ANN).
- `plain_rrf`: reciprocal-rank fusion, Σ 1 / (60 + rank), of the two (Cormack et al. 2009).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEPTH = 100
RRF_K = 60


class TextbookBM25:
    def __init__(self, doc_ids: Sequence[str], texts: Sequence[str]) -> None:
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        self._ids = list(doc_ids)
        tokens = bm25s.tokenize(
            list(texts), stopwords="en", stemmer=self._stemmer, show_progress=False
        )
        self._retriever = bm25s.BM25(k1=1.5, b=0.75)
        self._retriever.index(tokens, show_progress=False)
        self._vocabulary = set(self._retriever.vocab_dict)

    def search(self, query: str, k: int = DEPTH) -> list[str]:
        tokens = self._bm25s.tokenize(
            [query], stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )[0]
        known = [t for t in tokens if t in self._vocabulary]
        if not known:
            return []
        k = min(k, len(self._ids))
        docs, scores = self._retriever.retrieve([known], k=k, show_progress=False)
        return [self._ids[int(d)] for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


def exact_dense(
    matrix: np.ndarray, doc_ids: Sequence[str], query_vector: np.ndarray, k: int = DEPTH
) -> list[str]:
    similarities = matrix @ query_vector
    k = min(k, len(doc_ids))
    top = np.argpartition(-similarities, k - 1)[:k]
    top = top[np.argsort(-similarities[top], kind="stable")]
    return [doc_ids[i] for i in top]


def plain_rrf(*rankings: Sequence[str], k: int = RRF_K, depth: int = DEPTH) -> list[str]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking[:depth], start=1):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda doc: -scores[doc])
