"""The papers one ranking can use, with their features: a `Shelf`.

A shelf holds the candidates, the reader's own papers (library, liked, disliked) and background
papers (the instance's other papers, the negatives a reader's model learns against). It is
built once per edition, batch or benchmark instance and shared by every reader ranked on it:
the tf-idf vocabulary is fitted on the shelf's own papers, and each paper's meaning is the
MiniLM vector paperfeed stored for it (a zero row where none is stored).

Pure: no database, no model loading (loading.py builds shelves from the database).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

BACKGROUND_SIZE = 1000  # negatives per reader; more changed nothing measurable (docs/ranking.md)
_SEED = 16


@dataclass(frozen=True)
class ShelfPaper:
    id: str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    upvotes: float = 0.0  # the latest Hugging Face upvotes reading, 0 when unknown

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.abstract}"

    @property
    def features_text(self) -> str:
        """What the words model reads: the text, and each author as one token (`au_jane_doe`),
        so a reader's model can learn the groups they follow when authors are known."""
        authors = " ".join("au_" + "_".join(re.findall(r"\w+", a.lower())) for a in self.authors)
        return f"{self.text}\n{authors}" if authors else self.text


def _vectorizer() -> TfidfVectorizer:
    # Word unigrams and bigrams seen in at least two papers, sublinear tf: a reader's own
    # vocabulary (method and model names, phrases) is where their taste shows (docs/ranking.md).
    return TfidfVectorizer(
        strip_accents="unicode",
        stop_words="english",
        ngram_range=(1, 2),
        min_df=2,
        max_df=0.5,
        sublinear_tf=True,
        dtype=np.float32,
    )


class Shelf:
    def __init__(
        self,
        papers: Sequence[ShelfPaper],
        vectors: Mapping[str, np.ndarray] | None = None,
        *,
        background: Sequence[str] | None = None,
    ) -> None:
        """`background` (ids on the shelf) defaults to a fixed random sample of the shelf."""
        self.papers = list({p.id: p for p in papers}.values())
        self.row = {p.id: i for i, p in enumerate(self.papers)}
        texts = [p.features_text for p in self.papers]
        self._vectorizer = _vectorizer()
        if len(self.papers) >= 2:
            try:
                self.words = sparse.csr_matrix(self._vectorizer.fit_transform(texts))
            except ValueError:  # no word seen twice: a tiny shelf of unrelated papers
                self._vectorizer = _vectorizer().set_params(min_df=1, max_df=1.0)
                self.words = sparse.csr_matrix(self._vectorizer.fit_transform(texts))
        else:
            self._vectorizer = _vectorizer().set_params(min_df=1, max_df=1.0)
            self.words = sparse.csr_matrix(self._vectorizer.fit_transform(texts or [""]))
        self.vocabulary = self._vectorizer.get_feature_names_out()
        self.meaning = _meaning_rows(self.papers, vectors or {})
        self.has_meaning = bool(np.any(self.meaning))
        self.upvotes = np.array([p.upvotes for p in self.papers], dtype=np.float64)
        if background is None:
            rng = np.random.default_rng(_SEED)
            count = min(BACKGROUND_SIZE, len(self.papers))
            self.background = np.sort(rng.choice(len(self.papers), size=count, replace=False))
        else:
            self.background = self.rows(background)

    def extend(
        self, papers: Sequence[ShelfPaper], vectors: Mapping[str, np.ndarray] | None = None
    ) -> Shelf:
        """This shelf plus `papers` (a reader's own), in the same vocabulary and background:
        what a digest does per subscriber, so the edition's tf-idf is fitted once."""
        new = [p for p in dict((p.id, p) for p in papers).values() if p.id not in self.row]
        if not new:
            return self
        grown = object.__new__(Shelf)
        grown.papers = [*self.papers, *new]
        grown.row = {p.id: i for i, p in enumerate(grown.papers)}
        grown._vectorizer = self._vectorizer
        grown.vocabulary = self.vocabulary
        added = self._vectorizer.transform([p.features_text for p in new])
        grown.words = sparse.csr_matrix(sparse.vstack([self.words, added]))
        extra = _meaning_rows(new, vectors or {})
        if self.meaning.shape[1] and extra.shape[1] != self.meaning.shape[1]:
            extra = np.zeros((len(new), self.meaning.shape[1]), dtype=np.float32)
        grown.meaning = np.vstack([self.meaning, extra]) if self.meaning.shape[1] else extra
        if not self.meaning.shape[1] and len(self.papers):
            grown.meaning = np.vstack(
                [np.zeros((len(self.papers), extra.shape[1]), dtype=np.float32), extra]
            )
        grown.has_meaning = bool(np.any(grown.meaning))
        grown.upvotes = np.r_[self.upvotes, [p.upvotes for p in new]]
        grown.background = self.background
        return grown

    def __contains__(self, paper_id: str) -> bool:
        return paper_id in self.row

    def __getitem__(self, paper_id: str) -> ShelfPaper:
        return self.papers[self.row[paper_id]]

    def rows(self, ids: Sequence[str]) -> np.ndarray:
        """Shelf rows of these ids, in order; ids not on the shelf are skipped."""
        return np.array([self.row[i] for i in ids if i in self.row], dtype=np.intp)

    def encode_words(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """tf-idf rows of other texts (a reader's keywords) in the shelf's vocabulary."""
        return sparse.csr_matrix(self._vectorizer.transform(list(texts)))


def _meaning_rows(papers: list[ShelfPaper], vectors: Mapping[str, np.ndarray]) -> np.ndarray:
    dims = len(next(iter(vectors.values()))) if vectors else 0
    rows = np.zeros((len(papers), dims), dtype=np.float32)
    for i, paper in enumerate(papers):
        vector = vectors.get(paper.id)
        if vector is not None:
            norm = float(np.linalg.norm(vector))
            rows[i] = vector / norm if norm else 0.0
    return rows
