"""Printing bench/search_quality.py's results: rows, the goals' verdicts, the docs' table.

A row is one system on one collection: a paperfeed mode (keyword, semantic, hybrid) with a
model, or a baseline (BM25, RRF). Each carries per-query values, so differences are paired.
"""

from __future__ import annotations

import re
from pathlib import Path

from quality_stats import METRICS, paired_difference

BEGIN = "<!-- search-quality:begin -->"
END = "<!-- search-quality:end -->"
BASELINES = ("BM25", "RRF")


def with_differences(rows: list[dict]) -> None:
    """Add each paperfeed row's paired nDCG@10 difference against each baseline."""
    by_name = {r["mode"]: r for r in rows if r["model"] == "baseline"}
    for row in rows:
        if row["model"] == "baseline":
            continue
        row["vs"] = {
            name: paired_difference(
                row["per_query"]["ndcg@10"], by_name[name]["per_query"]["ndcg@10"]
            )
            for name in BASELINES
            if name in by_name
        }


def label(row: dict) -> str:
    if row["model"] == "baseline":
        return {"BM25": "BM25 (bm25s)", "RRF": "RRF(BM25, MiniLM) k 60"}[row["mode"]]
    if row["model"] == "-":
        return row["mode"]
    model = "fast" if row["model"] == "fast" else "MiniLM"
    return f"{row['mode']} ({model})"


def _interval(summary: dict) -> str:
    return f"{summary['mean']:.3f} [{summary['low']:.3f}, {summary['high']:.3f}]"


def _signed(summary: dict) -> str:
    return f"{summary['mean']:+.3f} [{summary['low']:+.3f}, {summary['high']:+.3f}]"


def print_row(row: dict) -> None:
    vs = "  ".join(f"vs {name} {_signed(d)}" for name, d in row.get("vs", {}).items())
    print(
        f"  {label(row):<24} nDCG@10 {_interval(row['ndcg@10'])}  recall@100 "
        f"{row['recall@100']['mean']:.3f}  MRR@10 {row['mrr@10']['mean']:.3f}  {vs}"
    )
    for style, scores in row.get("by_style", {}).items():
        print(
            f"      {style:<9} nDCG@10 {scores['ndcg@10']:.3f}  MRR@10 {scores['mrr@10']:.3f}  "
            f"recall@100 {scores['recall@100']:.3f}"
        )


def table(rows: list[dict]) -> str:
    lines = [
        "| collection | system | nDCG@10 [95% CI] | recall@100 | MRR@10 "
        "| Δ nDCG@10 vs BM25 | Δ nDCG@10 vs RRF |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        vs = row.get("vs", {})
        lines.append(
            f"| {row['collection']} | {label(row)} | {_interval(row['ndcg@10'])} "
            f"| {row['recall@100']['mean']:.3f} | {row['mrr@10']['mean']:.3f} "
            f"| {_signed(vs['BM25']) if 'BM25' in vs else ''} "
            f"| {_signed(vs['RRF']) if 'RRF' in vs else ''} |"
        )
    return "\n".join(lines)


def verdicts(rows: list[dict]) -> list[str]:
    """The issue's goals, one line per collection and goal."""
    lines = []
    for collection in dict.fromkeys(r["collection"] for r in rows):
        mine = {(r["mode"], r["model"]): r for r in rows if r["collection"] == collection}
        keyword = mine.get(("keyword", "-"))
        if keyword and "BM25" in keyword["vs"]:
            d = keyword["vs"]["BM25"]
            verdict = "MET" if d["mean"] >= 0 else ("within noise" if d["high"] >= 0 else "MISSED")
            lines.append(f"{collection}: keyword − BM25 = {_signed(d)} -> {verdict}")
        for model_name in ("all-MiniLM-L6-v2", "fast"):
            hybrid = mine.get(("hybrid", model_name))
            semantic = mine.get(("semantic", model_name))
            if not hybrid or not keyword:
                continue
            h = hybrid["ndcg@10"]["mean"]
            legs = [keyword["ndcg@10"]["mean"]] + (
                [semantic["ndcg@10"]["mean"]] if semantic else []
            )
            if model_name == "fast":
                ok = h >= keyword["ndcg@10"]["mean"]
                lines.append(
                    f"{collection}: fast hybrid {h:.3f} vs keyword {legs[0]:.3f} -> "
                    f"{'MET' if ok else 'MISSED'}"
                )
                continue
            rrf = hybrid["vs"].get("RRF")
            ok = rrf is not None and rrf["mean"] >= 0.01 and h >= max(legs)
            lines.append(
                f"{collection}: hybrid {h:.3f}, legs {' / '.join(f'{v:.3f}' for v in legs)}, "
                f"hybrid − RRF = {_signed(rrf) if rrf else '–'} -> "
                f"{'MET' if ok else 'MISSED'} (goal: ≥ RRF + 0.010 and ≥ both legs)"
            )
    return lines


def print_summary(rows: list[dict]) -> None:
    print()
    print(table(rows))
    print()
    for line in verdicts(rows):
        print(line)


def write_docs(rows: list[dict], docs: list[Path], command: str, when: str) -> None:
    """Replace the generated block of each doc with this run's table."""
    block = (
        f"{BEGIN}\n`{command}`, {when}. nDCG@10 with its 95% bootstrap interval over queries; "
        "Δ is the paired difference on the same queries, with its interval.\n\n"
        f"{table(rows)}\n\n" + "\n".join(f"- {line}" for line in verdicts(rows)) + f"\n{END}"
    )
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    for doc in docs:
        text = doc.read_text(encoding="utf-8")
        if BEGIN not in text:
            raise SystemExit(f"{doc} has no {BEGIN} … {END} block to regenerate")
        doc.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")


__all__ = ["METRICS", "print_row", "print_summary", "table", "with_differences", "write_docs"]
