"""The edition of a day: what every subscriber of one frequency shares.

Prepared once per run: the day's frozen trending list, the papers new in the window with their
stored vectors, and the health of the sources. What many subscribers share (which papers mention
a term, the shelf the picks model ranks on) is worked out once per edition, so composing one
subscriber's digest (compose.py) is then in-memory work plus three small queries. bench/digest.py
measures a whole run; docs/benchmarks.md has the numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import sqlalchemy as sa

from paperfeed import catalog
from paperfeed.picks import loading as picks_loading
from paperfeed.picks.shelf import Shelf, ShelfPaper
from paperfeed.storage import embeddings, ingest_runs, papers, signals
from paperfeed.trending.service import trending

STALE_AFTER = timedelta(hours=36)
MAX_POOL = 20_000


@dataclass
class Edition:
    day: date
    frequency: str
    start: datetime
    end: datetime
    trending: list[dict]
    pool: list[dict]
    quiet: bool
    health: list[str]
    vectors: np.ndarray | None = None  # rows aligned with pool, unit length
    model: str | None = None
    # What many subscribers share is worked out once per edition: the lower-cased text of each
    # paper (pool and trending), which papers mention a term, each topic's points per pool row.
    _texts: dict[str, str] = field(default_factory=dict)
    _mentions: dict[str, frozenset[str]] = field(default_factory=dict)
    _shelf: Shelf | None = None  # the pool and background papers, built for the first picks

    def __post_init__(self) -> None:
        self._texts = {p["id"]: _text(p) for p in [*self.pool, *self.trending]}

    def shelf(self, engine: sa.Engine) -> Shelf:
        """The pool with the newest older papers as background: fitted once per edition."""
        if self._shelf is None:
            with engine.connect() as conn:
                background, vectors = picks_loading.load_background(
                    conn, self.model, published_before=self.start
                )
            pool = [_shelf_paper(p) for p in self.pool]
            if self.vectors is not None:
                vectors = {**vectors, **{p.id: v for p, v in zip(pool, self.vectors, strict=True)}}
            self._shelf = Shelf(
                [*pool, *background], vectors, background=[p.id for p in background]
            )
        return self._shelf

    def mentions(self, term: str) -> frozenset[str]:
        """Ids of the edition's papers (pool and trending) whose title or abstract contains the
        lower-case `term` as a word."""
        found = self._mentions.get(term)
        if found is None:
            pattern = re.compile(r"(?<!\w)" + re.escape(term) + r"(?!\w)")
            # The substring test rejects most papers at C speed; the pattern then checks words.
            found = frozenset(
                pid for pid, text in self._texts.items() if term in text and pattern.search(text)
            )
            self._mentions[term] = found
        return found


def edition_window(day: date, frequency: str) -> tuple[datetime, datetime]:
    end = datetime.combine(day + timedelta(days=1), time(), UTC)
    return end - timedelta(days=7 if frequency == "weekly" else 1), end


def prepare(
    engine: sa.Engine,
    day: date,
    frequency: str,
    *,
    now: datetime,
    model: str | None = None,
    half_life: timedelta | None = None,
) -> Edition:
    """The edition of `day` for daily or weekly subscribers."""
    start, end = edition_window(day, frequency)
    window = "week" if frequency == "weekly" else "day"
    listing = trending(engine, now=now, window=window, day=day, limit=100, half_life=half_life)
    with engine.connect() as conn:
        new = papers.new_between(conn, start, end, limit=MAX_POOL)
        latest = signals.latest_values(conn, [s.paper.id for s in new])
        announced = papers.count_first_seen_between(conn, start, end)
        refreshed = ingest_runs.last_success_at(conn, end)
        runs = ingest_runs.runs_between(conn, start, end, now)
        stored = embeddings.get_vectors(conn, model, [s.paper.id for s in new]) if model else {}
    pool = [catalog.paper_dict(s, latest.get(s.paper.id)) for s in new]
    health = []
    span = "this week" if frequency == "weekly" else f"on {day:%a %-d %b}"
    # Quiet means a fetch in the window succeeded and found nothing new; no papers because the
    # fetch failed, or never ran, is missing data, said as such (and the digest still goes).
    fetched = any(run["status"] == "done" for run in runs)
    quiet = announced == 0 and fetched
    if quiet:
        health.append(f"arXiv announced no new papers {span} (a weekend or a holiday?).")
    elif announced == 0:
        health.append(f"paperfeed fetched no new papers {span}: {_fetch_problem(runs, refreshed)}")
    elif refreshed is None or refreshed < end - STALE_AFTER:
        since = "ever" if refreshed is None else f"since {refreshed:%a %-d %b %H:%M} UTC"
        health.append(
            f"paperfeed has not fetched new papers {since}: a source may be down, so this digest "
            "may be missing papers."
        )
    if listing.get("note"):
        health.append(listing["note"])
    vectors = None
    if stored and len(stored) == len(pool):
        vectors = np.vstack([stored[p["id"]] for p in pool]).astype(np.float32)
    elif stored:
        dims = len(next(iter(stored.values())))
        vectors = np.vstack(
            [stored.get(p["id"], np.zeros(dims, dtype=np.float32)) for p in pool]
        ).astype(np.float32)
    return Edition(
        day=day,
        frequency=frequency,
        start=start,
        end=end,
        trending=listing["papers"],
        pool=pool,
        quiet=quiet,
        health=health,
        vectors=vectors,
        model=model,
    )


def _fetch_problem(runs: list[dict], refreshed: datetime | None) -> str:
    """Why an edition has no papers when no fetch in its window succeeded."""
    ended = [run for run in runs if run["status"] in ("failed", "interrupted")]
    if ended:
        last = ended[-1]
        what = f"the {last['source']} fetch {last['status']} ({(last['error'] or '')[:200]})"
    else:
        what = "no fetch ran"
    since = (
        "" if refreshed is None else f"; the last good one ended {refreshed:%a %-d %b %H:%M} UTC"
    )
    return f"{what}{since}. This digest may be missing that day's papers."


def _shelf_paper(paper: dict) -> ShelfPaper:
    return ShelfPaper(
        id=paper["id"],
        title=paper["title"],
        abstract=paper["abstract"],
        authors=tuple(paper["authors"]),
        categories=tuple(paper["categories"]),
        upvotes=float((paper.get("signals") or {}).get("upvotes", 0.0)),
    )


def _text(paper: dict) -> str:
    return f"{paper['title']}\n{paper['abstract']}".lower()
