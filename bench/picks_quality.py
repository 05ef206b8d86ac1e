"""Picks quality: do paperfeed's picks find the papers real people chose? (issue 16 §1)

    .venv/bin/python bench/picks_quality.py          # the table for docs/benchmarks.md
    .venv/bin/python bench/picks_quality.py --fit    # also learn the mix (picks/model.WEIGHTS)

The set (bench/picks_data.py): in the Hugging Face daily-papers archive, each entry names who
submitted it. People with 4–199 distinct submissions, only those whose name's SHA-1 hex digest
starts with an even digit (the other half is never read): the first half of a person's
submissions by date is their library, each later one a held-out pick. A pick on day D is ranked
among all archive papers of D's ISO week, minus the library. Metrics: recall@10, MRR and median
rank over picks, recall@10 averaged per person (macro), with 95% bootstrap intervals that
resample people. The main column uses an instance with every paper's authors removed (people
mostly submit their own group's papers); the second keeps them. The held-out picks' dates are
split into three equal spans, reported separately.

paperfeed's figure comes from picks.model.rank_picks, the function the digest and the CLI call,
on a shelf of the whole instance; the baselines (bench/picks_baselines.py) run on the same shelf
in the same run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import picks_baselines  # noqa: E402
import picks_data  # noqa: E402

from paperfeed.picks.loading import load_papers  # noqa: E402
from paperfeed.picks.model import WEIGHTS, rank_picks, score_parts, weigh  # noqa: E402
from paperfeed.picks.reader import Reader  # noqa: E402
from paperfeed.picks.shelf import Shelf  # noqa: E402
from paperfeed.search.embedder import DEFAULT_MODEL  # noqa: E402
from paperfeed.storage.db import connect  # noqa: E402

MIN_SUBMISSIONS, MAX_SUBMISSIONS = 4, 199
BOOTSTRAP = 1000
PAPERFEED = "paperfeed picks (rank_picks)"


@dataclass(frozen=True)
class Task:
    person: str
    library: tuple[str, ...]
    pick: str
    day: date
    candidates: tuple[str, ...]


def build_tasks(archive: picks_data.Archive) -> list[Task]:
    weeks = archive.papers_by_week()
    tasks = []
    for person, submitted in sorted(archive.submissions.items()):
        if not MIN_SUBMISSIONS <= len(submitted) <= MAX_SUBMISSIONS:
            continue
        order = sorted(submitted, key=lambda pid: (submitted[pid], pid))
        half = len(order) // 2
        library = tuple(order[:half])
        for pick in order[half:]:
            day = submitted[pick]
            candidates = tuple(sorted(weeks[day.isocalendar()[:2]] - set(library)))
            tasks.append(Task(person, library, pick, day, candidates))
    return tasks


def date_ranges(tasks: list[Task]) -> list[tuple[date, date]]:
    first, last = min(t.day for t in tasks), max(t.day for t in tasks)
    span = (last - first) / 3
    cuts = [first, first + span, first + 2 * span, last]
    return [(cuts[i], cuts[i + 1]) for i in range(3)]


def range_of(day: date, ranges: list[tuple[date, date]]) -> int:
    return next(i for i, (_, end) in enumerate(ranges) if day <= end)


def load_shelf(url: str) -> Shelf:
    engine = connect(url)
    with engine.connect() as conn:
        ids = [row[0] for row in conn.exec_driver_sql("SELECT id FROM papers ORDER BY id")]
        papers, vectors = load_papers(conn, ids, DEFAULT_MODEL)
    engine.dispose()
    return Shelf(papers, vectors)


def rank_of(scores: np.ndarray, index: int) -> float:
    """1-based rank of one candidate; ties share the mean of their places."""
    mine = scores[index]
    return 1 + float(np.sum(scores > mine)) + (float(np.sum(scores == mine)) - 1) / 2


def paperfeed_ranks(tasks: list[Task], shelf: Shelf) -> list[float]:
    ranks = []
    for task in tasks:
        picks = rank_picks(Reader(library=task.library), task.candidates, shelf, explain_top=0)
        ranks.append(1 + next(i for i, p in enumerate(picks) if p.id == task.pick))
    return ranks


def baseline_ranks(tasks: list[Task], shelf: Shelf, score) -> list[float]:
    rng = np.random.default_rng(16)
    ranks = []
    for task in tasks:
        rows = shelf.rows(task.candidates)
        scores = score(shelf.rows(task.library), rows, shelf, rng)
        ranks.append(rank_of(np.asarray(scores), task.candidates.index(task.pick)))
    return ranks


def metrics(tasks: list[Task], ranks: list[float]) -> dict:
    ranks_a = np.asarray(ranks)
    people = sorted({t.person for t in tasks})
    by_person: dict[str, list[int]] = defaultdict(list)
    for i, task in enumerate(tasks):
        by_person[task.person].append(i)
    groups = [np.array(by_person[p]) for p in people]
    hit = (ranks_a <= 10).astype(float)
    inverse = 1 / ranks_a

    def figures(chosen: list[np.ndarray]) -> tuple[float, float, float]:
        rows = np.concatenate(chosen)
        return hit[rows].mean(), inverse[rows].mean(), np.mean([hit[g].mean() for g in chosen])

    recall, mrr, macro = figures(groups)
    rng = np.random.default_rng(16)
    draws = np.array(
        [
            figures([groups[i] for i in rng.integers(0, len(groups), len(groups))])
            for _ in range(BOOTSTRAP)
        ]
    )
    low, high = np.percentile(draws, [2.5, 97.5], axis=0)
    return {
        "picks": len(tasks),
        "people": len(people),
        "recall@10": recall,
        "recall@10_ci": [low[0], high[0]],
        "mrr": mrr,
        "mrr_ci": [low[1], high[1]],
        "median_rank": float(np.median(ranks_a)),
        "macro_recall@10": macro,
        "macro_recall@10_ci": [low[2], high[2]],
    }


def evaluate(tasks: list[Task], shelf: Shelf, echo) -> dict[str, list[float]]:
    ranks = {}
    started = time.perf_counter()
    ranks[PAPERFEED] = paperfeed_ranks(tasks, shelf)
    echo(f"  {PAPERFEED}: {time.perf_counter() - started:.1f} s")
    for name, score in picks_baselines.BASELINES.items():
        ranks[name] = baseline_ranks(tasks, shelf, score)
    return ranks


def fit_weights(tasks: list[Task], shelf: Shelf, ranges, echo) -> dict:
    """Choose the words/meaning/popularity mix by leave-one-date-range-out cross-validation."""
    cached = []
    for task in tasks:
        rows = shelf.rows(task.candidates)
        parts = score_parts(Reader(library=task.library), rows, shelf)
        cached.append((parts, task.candidates.index(task.pick)))
    grid = [
        {"words": 1.0, "meaning": m, "popularity": p}
        for m, p in itertools.product([0, 0.25, 0.5, 0.75, 1.0, 1.5], [0, 0.05, 0.1, 0.2, 0.3])
    ]
    which = np.array([range_of(t.day, ranges) for t in tasks])

    def ranks_with(weights: dict) -> np.ndarray:
        out = []
        for parts, index in cached:
            total = sum(weigh(parts, weights).values())
            out.append(rank_of(total, index))
        return np.asarray(out)

    table = [(w, ranks_with(w)) for w in grid]

    def best(mask: np.ndarray) -> dict:
        return max(table, key=lambda wr: ((wr[1][mask] <= 10).mean(), (1 / wr[1][mask]).mean()))[0]

    held_out = np.zeros(len(tasks))
    chosen = []
    for k in range(3):
        weights = best(which != k)
        chosen.append(weights)
        ranks = dict((json.dumps(w), r) for w, r in table)[json.dumps(weights)]
        held_out[which == k] = ranks[which == k]
        echo(f"  range {k + 1}: weights chosen on the other two {weights}")
    final = best(np.ones(len(tasks), dtype=bool))
    echo(f"  weights chosen on all three ranges: {final}")
    return {"per_range_weights": chosen, "weights": final, "held_out_ranks": held_out.tolist()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fit", action="store_true", help="Learn the mix by cross-validation.")
    args = parser.parse_args()
    echo = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    archive = picks_data.read_archive()
    tasks = build_tasks(archive)
    ranges = date_ranges(tasks)
    echo(f"{len(tasks)} held-out picks of {len({t.person for t in tasks})} people (even half)")
    results: dict = {"ranges": [[str(a), str(b)] for a, b in ranges], "weights": WEIGHTS}
    for variant, authors in (("no_authors", False), ("authors", True)):
        echo(f"instance with authors {'kept' if authors else 'removed'}")
        shelf = load_shelf(picks_data.build_instance(archive, authors=authors, echo=echo))
        ranks = evaluate(tasks, shelf, echo)
        if args.fit and not authors:
            fitted = fit_weights(tasks, shelf, ranges, echo)
            ranks["paperfeed, mix cross-validated by date range"] = fitted.pop("held_out_ranks")
            results["fit"] = fitted
        results[variant] = {name: metrics(tasks, r) for name, r in ranks.items()}
        for k in range(3):
            chosen = [i for i, t in enumerate(tasks) if range_of(t.day, ranges) == k]
            results[variant][f"range{k + 1}"] = {
                name: metrics([tasks[i] for i in chosen], [r[i] for i in chosen])
                for name, r in ranks.items()
            }
    out = picks_data.WORK / "results.json"
    out.write_text(json.dumps(results, indent=1, default=float))
    print_table(results)
    echo(f"(results in {out.relative_to(ROOT)})")


def print_table(results: dict) -> None:
    main, kept = results["no_authors"], results["authors"]
    names = [n for n in main if not n.startswith("range")]
    first = main[names[0]]
    print(f"{first['picks']} held-out picks of {first['people']} people (even half)\n")
    print(
        "| ranker | recall@10 (95% CI) | MRR (95% CI) | median rank | macro recall@10 | "
        "recall@10, authors kept |"
    )
    print("|---|---|---|---|---|---|")
    for name in names:
        m, a = main[name], kept.get(name)
        recall = f"{m['recall@10']:.3f} ({m['recall@10_ci'][0]:.2f}–{m['recall@10_ci'][1]:.2f})"
        mrr = f"{m['mrr']:.3f} ({m['mrr_ci'][0]:.2f}–{m['mrr_ci'][1]:.2f})"
        with_authors = f"{a['recall@10']:.3f}" if a else "–"
        print(
            f"| {name} | {recall} | {mrr} | {m['median_rank']:g} "
            f"| {m['macro_recall@10']:.3f} | {with_authors} |"
        )
    print("\nrecall@10 by date range of the held-out picks (no authors):\n")
    spans = [
        f"{a} – {b} ({main[f'range{k + 1}'][names[0]]['picks']} picks)"
        for k, (a, b) in enumerate(results["ranges"])
    ]
    print("| ranker | " + " | ".join(spans) + " |")
    print("|---|---|---|---|")
    for name in names:
        cells = []
        for k in range(3):
            m = main[f"range{k + 1}"][name]
            cells.append(
                f"{m['recall@10']:.3f} ({m['recall@10_ci'][0]:.2f}–{m['recall@10_ci'][1]:.2f})"
            )
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
