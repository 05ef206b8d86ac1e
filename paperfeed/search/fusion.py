"""Fusing ranked lists: standardised scores for hybrid search, reciprocal rank for reading lists.

Hybrid search fuses scores, not ranks. Each candidate (the union of the first 100 of each list)
scores

    w × z(bm25)  +  (1 − w) × z(cosine)

each list's scores standardised over its own first 100 (z = (x − mean) / standard deviation),
with w per embedding model (KEYWORD_WEIGHTS); the
cosine of a keyword hit the semantic list did not reach is filled in from its stored vector.
search.service runs it twice, the second time with the query vector moved towards the first
papers of the first fusion (pseudo-relevance feedback).

Chosen on real people's queries and judgments (docs/ranking.md, bench/search_tuning.py): over
MED, CRAN, NPL and CISI it beats plain reciprocal-rank fusion, which the earlier fusion
(0.6 × min(1, bm25 / full match) + 0.4 × cosine) did not, and keeps more of keyword search on
the known-item sets than rescaling each list to [0, 1]. RRF (Σ weight / (k + rank),
k = 60 after Cormack et al. 2009) stays for lists of one kind: the neighbours of each paper of
a reading list.
Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

RRF_K = 60
# How much the keyword list counts in hybrid search, per embedding model; a model not named
# here (any sentence-transformers model an operator sets) counts like MiniLM. Chosen by
# the best worst-case margin over plain RRF across six judged collections (bench/search_tuning.py).
KEYWORD_WEIGHTS = {"all-MiniLM-L6-v2": 0.4, "fast": 0.9}
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
    """Fuse (id, BM25) and (id, cosine) lists by standardised scores.

    Each list's scores become z-scores over that list (its first 100): how far a paper stands
    above the query's typical candidate, in that list's own spread. Neither BM25's unbounded
    scale nor the model's habitual cosines sets the mix, and a keyword hit that stands far
    above the rest (a paper named by its rare words) keeps that lead, which rescaling to [0, 1]
    would flatten. A paper missing from the keyword list takes that list's lowest z-score (it
    did not reach the first 100). Cosines are known for every paper with a vector
    (`cosine_of` fills those the semantic list lacks) and are standardised with the semantic
    list's mean and spread; a paper without a vector (not embedded yet) counts as the
    semantic list's last.
    """
    keyword_mean, keyword_spread = _spread([score for _, score in keyword])
    keyword_floor = min(((s - keyword_mean) / keyword_spread for _, s in keyword), default=0.0)
    cosine_mean, cosine_spread = _spread([cosine for _, cosine in semantic])
    cosine_floor = min((cosine for _, cosine in semantic), default=cosine_mean)
    cosines = dict(cosine_of)
    cosines.update(semantic)
    fused: dict[str, Fused] = {}
    for rank, (paper_id, score) in enumerate(keyword, start=1):
        if paper_id not in fused:
            entry = fused[paper_id] = Fused(paper_id, ranks={"keyword": rank})
            entry.score = keyword_weight * (score - keyword_mean) / keyword_spread
    for rank, (paper_id, _) in enumerate(semantic, start=1):
        if paper_id not in fused:
            fused[paper_id] = Fused(paper_id, keyword_weight * keyword_floor)
        fused[paper_id].ranks.setdefault("semantic", rank)
    for paper_id, entry in fused.items():
        cosine = cosines.get(paper_id, cosine_floor)
        entry.score += (1 - keyword_weight) * (cosine - cosine_mean) / cosine_spread
    return sorted(fused.values(), key=lambda f: -f.score)


def _spread(values: Sequence[float]) -> tuple[float, float]:
    """(mean, standard deviation) of a list's scores; a list of one, or of equal scores, has
    spread 1, so its papers all sit at z = 0."""
    if not values:
        return 0.0, 1.0
    mean = sum(values) / len(values)
    deviation = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    return mean, deviation or 1.0


def reciprocal_rank_fusion(
    ranked: Mapping[str, Sequence[str]],
    weights: Mapping[str, float] | None = None,
    *,
    k: int = RRF_K,
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
