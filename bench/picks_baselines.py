"""The baselines bench/picks_quality.py measures beside paperfeed's picks, on the same shelf.

Each takes (library rows, candidate rows, shelf, rng) and returns one score per candidate:
- random;
- popularity: the Hugging Face upvotes of the day;
- tf-idf cosine to the library's centroid (zotero-arxiv-daily style);
- a linear SVM on tf-idf, the library as positives and the shelf's random background papers as
  negatives, balanced classes, C = 0.01 (arxiv-sanity-lite style);
- MiniLM: the cosine to the library's nearest paper.
All use the shelf's own tf-idf (picks/shelf.py) and stored vectors, so a baseline differs from
paperfeed's model only in how it scores.
"""

from __future__ import annotations

import numpy as np
from sklearn.svm import LinearSVC

from paperfeed.picks.shelf import Shelf


def random_scores(library: np.ndarray, rows: np.ndarray, shelf: Shelf, rng) -> np.ndarray:
    return rng.random(len(rows))


def popularity(library: np.ndarray, rows: np.ndarray, shelf: Shelf, rng) -> np.ndarray:
    return shelf.upvotes[rows] + rng.random(len(rows)) * 1e-6  # ties broken at random


def tfidf_centroid(library: np.ndarray, rows: np.ndarray, shelf: Shelf, rng) -> np.ndarray:
    centroid = np.asarray(shelf.words[library].mean(axis=0)).ravel()
    return np.asarray(shelf.words[rows] @ centroid).ravel()


def tfidf_svm(library: np.ndarray, rows: np.ndarray, shelf: Shelf, rng) -> np.ndarray:
    negatives = np.setdiff1d(shelf.background, np.r_[library, rows])
    train = np.r_[library, negatives]
    labels = np.r_[np.ones(len(library)), np.zeros(len(negatives))]
    model = LinearSVC(class_weight="balanced", C=0.01, max_iter=10_000, tol=1e-6)
    return model.fit(shelf.words[train], labels).decision_function(shelf.words[rows])


def minilm_nearest(library: np.ndarray, rows: np.ndarray, shelf: Shelf, rng) -> np.ndarray:
    return (shelf.meaning[rows] @ shelf.meaning[library].T).max(axis=1)


BASELINES = {
    "random": random_scores,
    "popularity (upvotes)": popularity,
    "tf-idf cosine to library centroid": tfidf_centroid,
    "SVM on tf-idf (arxiv-sanity-lite)": tfidf_svm,
    "MiniLM cosine to nearest library paper": minilm_nearest,
}
