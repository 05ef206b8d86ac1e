"""How hybrid search's fusion constants were chosen: leave-one-collection-out over judged sets.

    .venv/bin/python bench/search_tuning.py            # after bench/search_quality.py

For each collection and model, each query's keyword list (paperfeed's own index, as
SearchService runs it) and query vector are taken once and cached; every fusion variant is
then scored offline on exact cosines over the collection's stored vectors. For each
collection in turn, the variant that does best on the *other* collections (mean nDCG@10,
each collection weighted equally) is chosen and scored on the held-out one: a constant that
only suits one collection cannot win this way. docs/ranking.md quotes the output.
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import search_quality as sq  # noqa: E402
from quality_baselines import TextbookBM25, exact_dense, plain_rrf  # noqa: E402
from quality_stats import mean, ndcg_at  # noqa: E402

from paperfeed.search.embedder import DEFAULT_MODEL, FAST_MODEL  # noqa: E402
from paperfeed.search.query import parse  # noqa: E402
from paperfeed.storage import embeddings  # noqa: E402

DEPTH = 100


class Collection:
    """One collection's cached inputs for one model."""

    def __init__(self, name: str, data: dict) -> None:
        self.name = name
        self.ids: list[str] = data["ids"]
        self.matrix: np.ndarray = data["matrix"]
        self.row = {doc: i for i, doc in enumerate(self.ids)}
        self.queries: list[dict] = data["queries"]
        self.qrels: dict = data["qrels"]

    def cosines(self, vector: np.ndarray) -> np.ndarray:
        return self.matrix @ vector


def gather(collection: Path, model: str) -> dict:
    """Each query's keyword hits, full-match score, query vector and the two baselines."""
    cache = sq.WORK / f"tuning-{collection.name}-{model}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    engine, corpus, queries, qrels, to_beir, work = sq.open_collection(collection)
    search = sq.prepare_model(engine, work / "index", model)
    doc_ids = [str(d["_id"]) for d in corpus]
    with engine.connect() as conn:
        stored = embeddings.get_vectors(conn, model, [sq.paper_id_for(i) for i in doc_ids])
    ids = [i for i in doc_ids if sq.paper_id_for(i) in stored]
    matrix = np.stack([stored[sq.paper_id_for(i)] for i in ids])
    bm25 = TextbookBM25(doc_ids, [f"{d.get('title') or ''} {d.get('text') or ''}" for d in corpus])
    embedder = search.embedder()
    rows = []
    for query in queries:
        parsed = parse(query["text"])
        found = search.keyword_index().search(parsed, limit=DEPTH)
        vector = embedder.encode([parsed.free_text or query["text"]])[0]
        raw_vector = embedder.encode([query["text"]])[0]
        rows.append(
            {
                "id": str(query["_id"]),
                "words": len(parsed.terms),
                "keyword": [(to_beir[h.paper_id], h.score) for h in found.hits],
                "vector": vector,
                "bm25": bm25.search(query["text"]),
                "rrf_dense": exact_dense(matrix, ids, raw_vector),
            }
        )
    engine.dispose()
    data = {"ids": ids, "matrix": matrix, "queries": rows, "qrels": qrels}
    cache.write_bytes(pickle.dumps(data))
    return data


# --- fusion variants ----------------------------------------------------------------------


def _normalise(scores: dict[str, float], how: str) -> dict[str, float]:
    if not scores:
        return {}
    values = np.fromiter(scores.values(), dtype=np.float64)
    if how == "minmax":
        low, high = values.min(), values.max()
        span = high - low or 1.0
        return {d: (s - low) / span for d, s in scores.items()}
    mu, sigma = values.mean(), values.std() or 1.0
    return {d: (s - mu) / sigma for d, s in scores.items()}


def fuse(col: Collection, q: dict, params: dict) -> list[str]:
    """One variant's ranking of one query."""
    vector = q["vector"]
    keyword = dict(q["keyword"])
    cos_all = col.cosines(vector)
    ranking = _fuse_once(col, q, keyword, cos_all, params)
    if params.get("prf"):
        # Rocchio on the query vector: move it towards the fused list's first papers.
        top = [col.row[d] for d in ranking[: params["prf_docs"]] if d in col.row]
        if top:
            centroid = col.matrix[top].mean(axis=0)
            expanded = vector + params["prf"] * centroid
            expanded /= np.linalg.norm(expanded)
            cos_all = col.cosines(expanded)
            ranking = _fuse_once(col, q, keyword, cos_all, params)
    return ranking


def _fuse_once(col, q, keyword, cos_all, params) -> list[str]:
    k = min(DEPTH, len(col.ids))
    dense_rows = np.argpartition(-cos_all, k - 1)[:k]
    dense = {col.ids[i]: float(cos_all[i]) for i in dense_rows}
    how = params["how"]
    if how == "rrf":
        kw_rank = [d for d, _ in q["keyword"]]
        dense_rank = sorted(dense, key=lambda d: -dense[d])
        scores: dict[str, float] = {}
        for weight, ranking, kk in (
            (params["w"], kw_rank, params["k"]),
            (1 - params["w"], dense_rank, params["k"]),
        ):
            for rank, doc in enumerate(ranking, start=1):
                scores[doc] = scores.get(doc, 0.0) + weight / (kk + rank)
        return sorted(scores, key=lambda d: -scores[d])
    union = set(keyword) | set(dense)
    cos = {d: float(cos_all[col.row[d]]) if d in col.row else 0.0 for d in union}
    if how == "fullz":
        # keyword: the share of the query matched (bm25 / full match); meaning: z-scores
        scale = q.get("full_match", 0.0) or max(keyword.values(), default=1.0)
        values = np.fromiter(dense.values(), dtype=np.float64)
        mu, sigma = values.mean(), values.std() or 1.0
        fused = {
            d: params["w"] * min(1.0, keyword.get(d, 0.0) / scale)
            + (1 - params["w"]) * (cos[d] - mu) / sigma / 4
            for d in union
        }
        return sorted(fused, key=lambda d: -fused[d])
    if how == "current":
        scale = q.get("full_match", 0.0) or max(keyword.values(), default=1.0)
        kw = {d: min(1.0, keyword.get(d, 0.0) / scale) for d in union}
        fused = {d: params["w"] * kw[d] + (1 - params["w"]) * cos[d] for d in union}
        return sorted(fused, key=lambda d: -fused[d])
    # Normalised over each leg's own top 100; a paper outside a leg's list gets that list's
    # floor (its lowest normalised score), not an invented value.
    kw_norm = _normalise(keyword, how)
    dense_norm = _normalise(dense, how)
    kw_floor = min(kw_norm.values(), default=0.0)
    if how == "zscore":
        # cosines are known for every paper: normalise them all with the top 100's statistics
        values = np.fromiter(dense.values(), dtype=np.float64)
        mu, sigma = values.mean(), values.std() or 1.0
        dense_norm = {d: (cos[d] - mu) / sigma for d in union}
    else:
        low, high = min(dense.values()), max(dense.values())
        dense_norm = {d: (cos[d] - low) / ((high - low) or 1.0) for d in union}
    w = params["w"]
    fused = {d: w * kw_norm.get(d, kw_floor) + (1 - w) * dense_norm[d] for d in union}
    return sorted(fused, key=lambda d: -fused[d])


def score(col: Collection, params: dict) -> float:
    return mean(
        [
            ndcg_at(fuse(col, q, params), col.qrels[q["id"]])
            for q in col.queries
            if q["id"] in col.qrels
        ]
    )


def baseline(col: Collection, which: str) -> float:
    runs = []
    for q in col.queries:
        if which == "bm25":
            ranked = q["bm25"]
        elif which == "rrf":
            ranked = plain_rrf(q["bm25"], q["rrf_dense"])
        elif which == "keyword":
            ranked = [d for d, _ in q["keyword"]]
        else:
            cos = col.cosines(q["vector"])
            ranked = [col.ids[i] for i in np.argsort(-cos)[:DEPTH]]
        runs.append(ndcg_at(ranked, col.qrels[q["id"]]))
    return mean(runs)


def grid(fine: bool, weights_only: bool = False, focus: bool = False) -> list[dict]:
    """The variants compared: first a coarse sweep of every family, then (--fine) a finer one
    around the family that won it (normalised scores with the query vector moved towards
    the fused top papers); --weights-only sweeps the keyword weight alone for the chosen
    feedback (what picks the weight of another model)."""
    if focus:
        return [
            {"how": how, "w": w, **({"prf": beta, "prf_docs": docs} if beta else {})}
            for how in ("minmax", "zscore")
            for w in (0.4, 0.5, 0.6, 0.7)
            for beta, docs in ((0, 0), (1.0, 2), (1.5, 2), (1.0, 3))
        ]
    if weights_only:
        return [
            {"how": "zscore", "w": w, "prf": 1.5, "prf_docs": 2}
            for w in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
        ] + [{"how": "zscore", "w": w} for w in (0.6, 0.8)]
    if fine:
        return [
            {"how": how, "w": w, "prf": beta, "prf_docs": docs}
            for how in ("minmax", "zscore")
            for w in (0.4, 0.45, 0.5, 0.55, 0.6)
            for beta in (0.5, 1.0, 1.5, 2.0, 3.0)
            for docs in (2, 3, 5)
        ]
    variants = [{"how": "current", "w": 0.6}]
    variants += [{"how": "rrf", "w": w, "k": k} for w in (0.3, 0.4, 0.5, 0.6) for k in (10, 30, 60)]
    for how, w in itertools.product(("minmax", "zscore", "fullz"), (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)):
        variants.append({"how": how, "w": w})
        for beta, docs in itertools.product((0.5, 1.0, 2.0), (3, 5, 10)):
            variants.append({"how": how, "w": w, "prf": beta, "prf_docs": docs})
    return variants


def name_of(params: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=f"{DEFAULT_MODEL},{FAST_MODEL}")
    parser.add_argument("--collection", type=Path, action="append", help="BEIR folder (repeatable)")
    parser.add_argument("--fine", action="store_true", help="the finer sweep (see grid)")
    parser.add_argument("--focus", action="store_true", help="both rescalings, all six sets")
    parser.add_argument("--weights-only", action="store_true", help="the weight sweep (see grid)")
    args = parser.parse_args()
    collections = args.collection or sq.default_collections()
    for model in [m for m in args.models.split(",") if m]:
        cols = [Collection(c.name, gather(c, model)) for c in collections]
        variants = grid(args.fine, args.weights_only, args.focus)
        table = {name_of(v): {c.name: score(c, v) for c in cols} for v in variants}
        print(f"\n== {model}")
        base = {
            c.name: {w: baseline(c, w) for w in ("bm25", "rrf", "keyword", "semantic")}
            for c in cols
        }
        for c in cols:
            print(f"{c.name:<16} " + "  ".join(f"{w} {v:.3f}" for w, v in base[c.name].items()))
        margin = {v: min(table[v][c] - base[c]["rrf"] for c in table[v]) for v in table}
        safest = max(margin, key=margin.get)
        print(
            f"best worst-case margin over RRF: {safest}: "
            + "  ".join(f"{c} {s:.3f}" for c, s in table[safest].items())
        )
        best_overall = max(table, key=lambda v: mean(list(table[v].values())))
        print(
            f"best on all: {best_overall}: "
            + "  ".join(f"{c} {s:.3f}" for c, s in table[best_overall].items())
        )
        for held in cols:
            others = [c.name for c in cols if c.name != held.name]
            chosen = max(table, key=lambda v: mean([table[v][c] for c in others]))
            got = table[chosen][held.name]
            print(
                f"held out {held.name:<16} chosen {chosen:<48} nDCG@10 {got:.3f}  "
                f"RRF {base[held.name]['rrf']:.3f}  Δ {got - base[held.name]['rrf']:+.3f}"
            )
        sweep = "-fine" if args.fine else "-weights" if args.weights_only else ""
        sweep = "-focus" if args.focus else sweep
        out = sq.WORK / f"tuning-table-{model}{sweep}.pkl"
        out.write_bytes(pickle.dumps({"table": table, "base": base}))


if __name__ == "__main__":
    main()
