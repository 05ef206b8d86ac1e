"""`rank_picks`: score candidate papers for one reader; the digest's "Picked for you",
`paperfeed picks` and bench/picks_quality.py all call it.

The reader's model is learned from what they gave, per call:
- words: a linear SVM on the shelf's tf-idf rows, the library and 👍 papers as positives, the
  shelf's background papers (and 👎, weighted as much as a positive) as negatives;
- meaning: the same on the stored MiniLM vectors;
- a 👎 also pulls down the candidates nearest to it (cosine), so that one vote is felt at once;
- topics are priors: a keyword the text says or is close to, a listed category, a followed
  author;
- popularity: Hugging Face upvotes, a weak prior that orders a cold start.
Each part is standardised over the candidates and summed with WEIGHTS. The weights of words,
meaning and popularity are learned on real readers by bench/picks_quality.py --fit
(cross-validated across three date ranges, docs/ranking.md "Picks"); the topic and 👎 weights
cannot be learned there (the archive has neither) and are set so one matching topic or one 👎
moves a paper by about one standard deviation.

Ranking never drops a candidate: a 👎 only lowers scores, so a digest always refills its slots.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.svm import LinearSVC

from paperfeed.picks.reader import Reader, followed, mentions
from paperfeed.picks.reasons import explain
from paperfeed.picks.shelf import Shelf

# Learned by bench/picks_quality.py --fit on the even half (docs/ranking.md, "Picks").
WEIGHTS = {
    "words": 1.0,
    "meaning": 0.25,
    "popularity": 0.05,
    # Set, not learned (see above).
    "keyword": 1.0,
    "category": 0.5,
    "author": 3.0,
    "disliked": 1.0,
}
WORDS_C = 0.01  # SVM regularisation, as arxiv-sanity-lite; 0.1 and 1 were no better
MEANING_C = 0.1


@dataclass(frozen=True)
class Pick:
    id: str
    score: float
    why: str
    parts: dict[str, float] = field(default_factory=dict)  # each part's weighted share


def rank_picks(
    reader: Reader,
    candidates: Sequence[str],
    shelf: Shelf,
    *,
    weights: dict[str, float] | None = None,
    explain_top: int | None = None,
) -> list[Pick]:
    """Every candidate on the shelf (the reader's own papers left out), best first.

    Reasons are written for the first `explain_top` picks (all when None); the rest say "".
    """
    weights = WEIGHTS if weights is None else weights
    own = set(reader.library) | set(reader.liked) | set(reader.disliked)
    ids = [pid for pid in dict.fromkeys(candidates) if pid in shelf and pid not in own]
    if not ids:
        return []
    rows = shelf.rows(ids)
    parts = score_parts(reader, rows, shelf)
    contributions = weigh(parts, weights)
    total = np.zeros(len(rows))
    for values in contributions.values():
        total += values
    # Ties (a cold start with no signal at all) keep the candidates' given order.
    order = np.lexsort((np.arange(len(rows)), -total))
    limit = len(order) if explain_top is None else explain_top
    picks = []
    for place, i in enumerate(order.tolist()):
        share = {name: float(values[i]) for name, values in contributions.items()}
        why = explain(reader, shelf, int(rows[i]), share, parts) if place < limit else ""
        picks.append(Pick(ids[i], float(total[i]), why, share))
    return picks


def score_parts(reader: Reader, rows: np.ndarray, shelf: Shelf) -> dict[str, np.ndarray]:
    """Each part's raw score for the candidate `rows` (only the parts that apply)."""
    parts: dict[str, np.ndarray] = {}
    positives = shelf.rows([*reader.library, *reader.liked])
    negatives = shelf.rows(reader.disliked)
    background = np.setdiff1d(shelf.background, np.r_[rows, positives, negatives])
    if len(positives):
        parts["words"] = _learned(shelf.words, positives, negatives, background, rows, WORDS_C)
        if shelf.has_meaning:
            parts["meaning"] = _learned(
                shelf.meaning, positives, negatives, background, rows, MEANING_C
            )
    if len(negatives):
        parts["disliked"] = -_nearest(shelf, negatives, rows)
    if reader.keywords:
        parts["keyword"] = _keyword_match(reader.keywords, rows, shelf)
    if reader.categories:
        wanted = set(reader.categories)
        parts["category"] = np.array(
            [float(bool(wanted & set(shelf.papers[r].categories))) for r in rows]
        )
    if reader.authors:
        parts["author"] = np.array([float(bool(followed(reader, shelf.papers[r]))) for r in rows])
    parts["popularity"] = np.log1p(np.maximum(shelf.upvotes[rows], 0.0))
    return parts


def weigh(parts: dict[str, np.ndarray], weights: dict[str, float]) -> dict[str, np.ndarray]:
    """Each part standardised over the candidates, times its weight."""
    return {name: weights.get(name, 0.0) * _standardise(values) for name, values in parts.items()}


def _learned(features, positives, negatives, background, rows, c: float) -> np.ndarray:
    """A linear SVM's margin for `rows`: positives against background and 👎 papers."""
    negative_rows = np.r_[negatives, background].astype(np.intp)
    if not len(negative_rows):
        return _mean_similarity(features, positives, rows)
    train = np.r_[positives, negative_rows].astype(np.intp)
    labels = np.r_[np.ones(len(positives)), np.zeros(len(negative_rows))]
    # Positives and background weigh the same in total; each 👎 weighs as much as a positive.
    weight = np.r_[
        np.ones(len(positives)),
        np.ones(len(negatives)),
        np.full(len(background), len(positives) / max(len(background), 1)),
    ]
    model = LinearSVC(C=c, max_iter=10_000, tol=1e-6)
    model.fit(features[train], labels, sample_weight=weight)
    return model.decision_function(features[rows]).astype(np.float64)


def _mean_similarity(features, positives, rows) -> np.ndarray:
    centroid = np.asarray(features[positives].mean(axis=0)).ravel()
    return np.asarray(features[rows] @ centroid).ravel().astype(np.float64)


def _nearest(shelf: Shelf, seeds: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Each row's highest cosine to any seed (meaning when stored, else words)."""
    if shelf.has_meaning:
        similarity = shelf.meaning[rows] @ shelf.meaning[seeds].T
    else:
        similarity = (shelf.words[rows] @ shelf.words[seeds].T).toarray()
    return np.asarray(similarity).max(axis=1).astype(np.float64)


def _keyword_match(keywords: Sequence[str], rows: np.ndarray, shelf: Shelf) -> np.ndarray:
    """1 per keyword the text says, plus the tf-idf cosine for ones it does not."""
    texts = [shelf.papers[r].text.lower() for r in rows]
    vectors = shelf.encode_words(list(keywords))
    near = (shelf.words[rows] @ vectors.T).toarray()
    points = np.zeros(len(rows))
    for k, keyword in enumerate(keywords):
        said = np.array([mentions(text, keyword) for text in texts])
        points += np.where(said, 1.0, near[:, k])
    return points


def _standardise(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    if not math.isfinite(spread) or spread < 1e-12:
        return np.zeros_like(values)
    return (values - values.mean()) / spread
