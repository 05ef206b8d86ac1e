"""Fusing ranked lists: weighted scores for hybrid search, reciprocal rank for reading lists.

Hybrid search fuses scores, not ranks. Each candidate (the union of the first 100 of each list)
scores

    KEYWORD_WEIGHT × min(1, bm25 / full_match)  +  (1 − KEYWORD_WEIGHT) × cosine

where full_match is what a paper holding every query word once in its title and abstract would
score (search.keyword), and the cosine of a keyword hit the semantic list did not reach is
filled in from its stored vector. Dividing by full_match rather than by the best hit keeps a
weak keyword match weak: when the only words a description shares with any paper are common
ones, the best keyword hit no longer counts as a perfect match.

Measured on both in-repo collections (docs/ranking.md): reciprocal-rank fusion let a weak
semantic list drag down papers BM25 ranked first (nDCG@10 0.711 against keyword alone 0.889);
this fusion keeps them (0.890) and gains 15 points where the query's words differ from the
paper's. RRF (Σ weight / (k + rank), k = 60 after Cormack et al. 2009) stays for lists of one
kind: the neighbours of each paper of a reading list.
Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

RRF_K = 60
# Chosen on half of the benchmark targets, confirmed on the other half (docs/ranking.md).
KEYWORD_WEIGHT = 0.6


@dataclass
class Fused:
    paper_id: str
    score: float = 0.0
    ranks: dict[str, int] = field(default_factory=dict)  # list name -> 1-based rank in it


def score_fusion(
    keyword: Sequence[tuple[str, float]],
    semantic: Sequence[tuple[str, float]],
    cosine_of: Mapping[str, float],
    *,
    full_match: float,
    keyword_weight: float = KEYWORD_WEIGHT,
) -> list[Fused]:
    """Fuse (id, BM25) and (id, cosine) lists; `cosine_of` fills cosines the semantic list lacks.

    A paper missing from the keyword list scores 0 for keywords (it did not reach the first
    100); one whose cosine is unknown scores 0 for meaning. Without a full-match score (a query
    of prefixes or author names only) the best hit sets the scale.
    """
    fused: dict[str, Fused] = {}
    scale = full_match or max((score for _, score in keyword), default=0.0)
    for rank, (paper_id, score) in enumerate(keyword, start=1):
        if paper_id in fused:
            continue
        entry = fused[paper_id] = Fused(paper_id, ranks={"keyword": rank})
        entry.score += keyword_weight * (min(1.0, score / scale) if scale > 0 else 0.0)
    cosines = dict(cosine_of)
    for rank, (paper_id, cosine) in enumerate(semantic, start=1):
        entry = fused.get(paper_id)
        if entry is None:
            entry = fused[paper_id] = Fused(paper_id)
        if "semantic" in entry.ranks:
            continue
        entry.ranks["semantic"] = rank
        cosines[paper_id] = cosine
    for paper_id, entry in fused.items():
        entry.score += (1 - keyword_weight) * cosines.get(paper_id, 0.0)
    return sorted(fused.values(), key=lambda f: -f.score)


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
