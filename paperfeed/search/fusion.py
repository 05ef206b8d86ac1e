"""Fusing ranked lists: rescaled scores for hybrid search, reciprocal rank for reading lists.

Hybrid search fuses scores, not ranks. Each candidate (the union of the first 100 of each list)
scores

    w × (bm25 − lowest) / (highest − lowest)  +  (1 − w) × (cos − lowest) / (highest − lowest)

each list rescaled within its own first 100, with w per embedding model (KEYWORD_WEIGHTS); the
cosine of a keyword hit the semantic list did not reach is filled in from its stored vector.
search.service runs it twice, the second time with the query vector moved towards the first
papers of the first fusion (pseudo-relevance feedback).

Chosen on real people's queries and judgments (docs/ranking.md, bench/search_tuning.py): over
MED, CRAN, NPL and CISI it beats plain reciprocal-rank fusion, which the earlier fusion
(0.6 × min(1, bm25 / full match) + 0.4 × cosine) did not. RRF (Σ weight / (k + rank),
k = 60 after Cormack et al. 2009) stays for lists of one kind: the neighbours of each paper of
a reading list.
Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

RRF_K = 60
# How much the keyword list counts in hybrid search, per embedding model; a model not named
# here (any sentence-transformers model an operator sets) counts like MiniLM. Chosen by
# leave-one-collection-out over six judged collections (bench/search_tuning.py).
KEYWORD_WEIGHTS = {"all-MiniLM-L6-v2": 0.45, "fast": 0.8}
DEFAULT_KEYWORD_WEIGHT = KEYWORD_WEIGHTS["all-MiniLM-L6-v2"]


def keyword_weight(model: str) -> float:
    return KEYWORD_WEIGHTS.get(model, DEFAULT_KEYWORD_WEIGHT)


@dataclass
class Fused:
    paper_id: str
    score: float = 0.0
    ranks: dict[str, int] = field(default_factory=dict)  # list name -> 1-based rank in it


def normalised_fusion(
    keyword: Sequence[tuple[str, float]],
    semantic: Sequence[tuple[str, float]],
    cosine_of: Mapping[str, float],
    *,
    keyword_weight: float,
) -> list[Fused]:
    """Fuse (id, BM25) and (id, cosine) lists by scores rescaled within each list.

    Each list's scores are mapped to [0, 1] between its own lowest and highest (its first
    100), so neither BM25's unbounded scale nor the model's habitual cosines sets the mix. A
    paper missing from the keyword list scores 0 for keywords (it did not reach the first
    100). Cosines are known for every paper with a vector (`cosine_of` fills those the
    semantic list lacks) and are rescaled with the semantic list's range, so a keyword hit
    far from the query's meaning can fall below 0; a paper without a vector (not embedded
    yet) counts as the semantic list's last.
    """
    keyword_low, keyword_span = _range(score for _, score in keyword)
    cosine_low, cosine_span = _range(cosine for _, cosine in semantic)
    cosines = dict(cosine_of)
    cosines.update(semantic)
    fused: dict[str, Fused] = {}
    for rank, (paper_id, score) in enumerate(keyword, start=1):
        if paper_id not in fused:
            entry = fused[paper_id] = Fused(paper_id, ranks={"keyword": rank})
            entry.score = keyword_weight * (score - keyword_low) / keyword_span
    for rank, (paper_id, _) in enumerate(semantic, start=1):
        fused.setdefault(paper_id, Fused(paper_id)).ranks.setdefault("semantic", rank)
    for paper_id, entry in fused.items():
        cosine = cosines.get(paper_id, cosine_low)
        entry.score += (1 - keyword_weight) * (cosine - cosine_low) / cosine_span
    return sorted(fused.values(), key=lambda f: -f.score)


def _range(scores: Iterable[float]) -> tuple[float, float]:
    """(lowest, highest − lowest) of a list's scores; a span of 1 for a list of one or of
    equal scores, whose papers then all sit at 0."""
    values = list(scores)
    if not values:
        return 0.0, 1.0
    low = min(values)
    return low, (max(values) - low) or 1.0


def reciprocal_rank_fusion(
    ranked: dict[str, Sequence[str]], weights: dict[str, float] | None = None, *, k: int = RRF_K
) -> list[Fused]:
    """Fuse named ranked lists of ids; ties keep the order in which ids were first seen."""
    fused: dict[str, Fused] = {}
    for name, ids in ranked.items():
        weight = (weights or {}).get(name, 1.0)
        for rank, paper_id in enumerate(ids, start=1):
            entry = fused.get(paper_id)
            if entry is None:
                entry = fused[paper_id] = Fused(paper_id)
            if name in entry.ranks:
                continue  # a list naming an id twice counts its best rank only
            entry.ranks[name] = rank
            entry.score += weight / (k + rank)
    return sorted(fused.values(), key=lambda f: -f.score)
