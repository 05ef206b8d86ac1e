"""Reciprocal-rank fusion: merge ranked lists by summing weight / (k + rank).

RRF needs no score calibration between BM25 and cosine similarity, which live on unrelated
scales, and k = 60 is the constant from Cormack et al. (2009) that most systems keep.
Pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

RRF_K = 60


@dataclass
class Fused:
    paper_id: str
    score: float = 0.0
    ranks: dict[str, int] = field(default_factory=dict)  # list name -> 1-based rank in it


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
