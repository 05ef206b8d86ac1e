"""Ranking metrics per query, their means with bootstrap intervals, and paired differences.

Pure functions shared by bench/search_quality.py and bench/search_tuning.py. A run is
{query id: ranked document ids}; qrels are {query id: {document id: graded relevance}}.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

DEPTH = 100
METRICS = ("ndcg@10", "recall@100", "mrr@10")
BOOTSTRAP_SAMPLES = 2_000
BOOTSTRAP_SEED = 20261206


def read_qrels(path: Path) -> dict[str, dict[str, float]]:
    qrels: dict[str, dict[str, float]] = defaultdict(dict)
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            parts = line.rstrip("\n").split("\t")
            if number == 0 and parts[0] == "query-id":
                continue
            query_id, doc_id, score = parts[0], parts[1], float(parts[2])
            if score > 0:
                qrels[query_id][doc_id] = score
    return dict(qrels)


def ndcg_at(ranked: Sequence[str], relevant: Mapping[str, float], k: int = 10) -> float:
    gain = sum(
        (2 ** relevant[doc] - 1) / math.log2(rank + 1)
        for rank, doc in enumerate(ranked[:k], start=1)
        if doc in relevant
    )
    ideal = sum(
        (2**score - 1) / math.log2(rank + 1)
        for rank, score in enumerate(sorted(relevant.values(), reverse=True)[:k], start=1)
    )
    return gain / ideal if ideal else 0.0


def recall_at(ranked: Sequence[str], relevant: Mapping[str, float], k: int = DEPTH) -> float:
    return len(set(ranked[:k]) & relevant.keys()) / len(relevant)


def reciprocal_rank(ranked: Sequence[str], relevant: Mapping[str, float], k: int = 10) -> float:
    for rank, doc in enumerate(ranked[:k], start=1):
        if doc in relevant:
            return 1.0 / rank
    return 0.0


def per_query(
    run: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, float]]
) -> dict[str, dict[str, float]]:
    """{metric: {query id: value}} over the judged queries (a query missing from the run
    counts as an empty ranking, never as skipped)."""
    scores: dict[str, dict[str, float]] = {m: {} for m in METRICS}
    for query_id, relevant in qrels.items():
        ranked = run.get(query_id, [])
        scores["ndcg@10"][query_id] = ndcg_at(ranked, relevant)
        scores["recall@100"][query_id] = recall_at(ranked, relevant)
        scores["mrr@10"][query_id] = reciprocal_rank(ranked, relevant)
    return scores


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def bootstrap_interval(
    values: Sequence[float], *, samples: int = BOOTSTRAP_SAMPLES, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float]:
    """The 95% percentile interval of the mean, resampling queries with replacement."""
    if not values:
        return (0.0, 0.0)
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(samples))
    return means[int(0.025 * samples)], means[int(0.975 * samples) - 1]


def summary(values_by_query: Mapping[str, float]) -> dict[str, float]:
    values = list(values_by_query.values())
    low, high = bootstrap_interval(values)
    return {"mean": mean(values), "low": low, "high": high}


def paired_difference(ours: Mapping[str, float], theirs: Mapping[str, float]) -> dict[str, float]:
    """Mean of ours − theirs over the same queries, with its 95% bootstrap interval."""
    differences = [ours[q] - theirs[q] for q in ours if q in theirs]
    low, high = bootstrap_interval(differences)
    return {"mean": mean(differences), "low": low, "high": high}
