"""Composing digests: the edition (what every subscriber shares for one day) and each
subscriber's digest (the trending papers not sent before, plus personal picks with reasons).

An edition is prepared once per run: the day's frozen trending list, the papers new in the
window with their stored vectors, and the health of the sources. Composing one subscriber's
digest is then in-memory work plus three small queries; what subscribers share (which papers
mention a term, each topic's points per paper, keyword vectors) is worked out once per edition.
bench/digest.py measures a whole run; docs/benchmarks.md has the numbers.

Picks rank the window's new papers for one subscriber with picks.model.rank_picks, the function
`paperfeed picks` and bench/picks_quality.py call too: a per-reader model learned from the
library and 👍 (positives) and 👎 (negatives), with the subscriber's categories and keywords as
priors; see docs/ranking.md ("Picks"). A 👎 lowers similar papers but never removes a slot: the
picks refill to the subscriber's number of papers from the next best. A followed author's new
papers are always picked, first. Mutes (digest/topics.py: keywords in the title or abstract,
authors, categories) drop a paper from every section; papers sent before, ever, are never sent
again.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import sqlalchemy as sa

from paperfeed import catalog
from paperfeed.digest import subscriptions
from paperfeed.digest.topics import Mutes, followed_in
from paperfeed.picks import loading as picks_loading
from paperfeed.picks.model import Pick, rank_picks
from paperfeed.picks.reader import Reader
from paperfeed.picks.shelf import Shelf, ShelfPaper
from paperfeed.storage import embeddings, ingest_runs, papers, signals
from paperfeed.storage import library as library_store
from paperfeed.storage import subscribers as store
from paperfeed.trending.service import trending

log = logging.getLogger(__name__)

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


def compose(
    engine: sa.Engine, edition: Edition, subscriber: dict, *, public_url: str, secret: str
) -> dict:
    """The digest dict (see digest/render.py) for one subscriber and edition."""
    topics = {**subscriptions.DEFAULTS["topics"], **(subscriber.get("topics") or {})}
    with engine.connect() as conn:
        sent = store.sent_paper_ids(conn, subscriber["id"])
        votes = store.votes(conn, subscriber["id"])
        saved = []
        if topics.get("library") and subscriber.get("user_id"):
            saved = [pid for pid, _ in library_store.marks_of(conn, "save", subscriber["user_id"])]
        own, own_vectors = picks_loading.load_papers(conn, [*saved, *votes], edition.model)
    liked = [pid for pid, v in votes.items() if v > 0]
    disliked = {pid for pid, v in votes.items() if v < 0}
    blocked = sent | disliked
    mutes = Mutes.of(topics)
    for term in mutes.keywords:
        blocked |= edition.mentions(term)

    def allowed(paper: dict) -> bool:
        return paper["id"] not in blocked and not mutes.hides_by_name(paper)

    follows = topics["authors"]
    personal = bool(topics["categories"] or topics["keywords"] or follows or saved or liked)
    count = subscriber.get("paper_count") or 10
    trending_room = count if not personal else max(1, math.ceil(count / 2))
    top = [p for p in edition.trending if allowed(p)][:trending_room]
    chosen = {p["id"] for p in top}
    # Trending papers that match a topic say so; only the others become picks.
    room = count - len(top)
    ranked: list[Pick] = []
    if personal and edition.pool:
        reader = Reader(
            library=tuple(saved),
            liked=tuple(liked),
            disliked=tuple(disliked),
            categories=tuple(topics["categories"]),
            keywords=tuple(topics["keywords"]),
            authors=tuple(follows),
        )
        shelf = edition.shelf(engine).extend(own, own_vectors)
        candidates = [p["id"] for p in edition.pool if allowed(p)]
        ranked = rank_picks(reader, candidates, shelf, explain_top=count + len(top))
    pool_by_id = {p["id"]: p for p in edition.pool}
    # A pick "matches" when what the reader gave (not popularity) raised it the most.
    matches = [p for p in ranked[:count] if _is_match(p)]
    matched_top = {p.id: p for p in matches if p.id in chosen}
    # A followed author's new paper is always picked (first), whatever the model thinks of it.
    by_followed = [p for p in ranked if followed_in(follows, pool_by_id[p.id]["authors"])]
    first = {p.id for p in by_followed}
    rest = [p for p in ranked if p.id not in first]
    picks = [p for p in [*by_followed, *rest] if p.id not in chosen][:room]
    health = list(edition.health)
    if personal and not matches:
        health.append(f"Nothing new matched your topics ({_describe(topics, liked)}) this time.")
    # A short trending list is topped up with the newest papers, so a quiet week still reads.
    taken = chosen | {p.id for p in picks}
    newest = []
    if not personal:
        fresh = (p for p in edition.pool if p["id"] not in taken and allowed(p))
        newest = list(itertools.islice(fresh, max(0, count - len(top) - len(picks))))

    def entry(paper: dict, reason: str) -> dict:
        return _paper_entry(paper, reason, public_url, secret, subscriber)

    sections = []
    title = "Trending this week" if edition.frequency == "weekly" else "Trending today"
    if top:
        papers = [entry(p, _trend_reason(p, matched_top.get(p["id"]), follows)) for p in top]
        sections.append({"title": title, "papers": papers})
    if picks:
        sections.append(
            {
                "title": "Picked for you",
                "papers": [
                    entry(pool_by_id[p.id], _pick_reason(p, pool_by_id[p.id], follows))
                    for p in picks
                ],
            }
        )
    if newest:
        label = "New this week" if edition.frequency == "weekly" else "New today"
        sections.append({"title": label, "papers": [entry(p, f"{label} on arXiv") for p in newest]})
    return {
        "date": edition.day.isoformat(),
        "frequency": edition.frequency,
        "site": {"name": "paperfeed", "url": public_url.rstrip("/")},
        "subscriber": {
            "email": subscriber["email"],
            "preferences_url": subscriptions.manage_url(public_url, secret, subscriber),
            "unsubscribe_url": subscriptions.unsubscribe_url(public_url, secret, subscriber),
        },
        "health": health,
        "sections": sections,
    }


def paper_ids(digest: dict) -> list[str]:
    return [p["id"] for section in digest["sections"] for p in section["papers"]]


def _shelf_paper(paper: dict) -> ShelfPaper:
    return ShelfPaper(
        id=paper["id"],
        title=paper["title"],
        abstract=paper["abstract"],
        authors=tuple(paper["authors"]),
        categories=tuple(paper["categories"]),
        upvotes=float((paper.get("signals") or {}).get("upvotes", 0.0)),
    )


def _is_match(pick: Pick) -> bool:
    best = max(pick.parts.items(), key=lambda item: item[1], default=("", 0.0))
    return best[1] > 0 and best[0] != "popularity"


def _text(paper: dict) -> str:
    return f"{paper['title']}\n{paper['abstract']}".lower()


def _describe(topics: dict, liked: list[str]) -> str:
    parts = list(topics["categories"]) + [f"“{k}”" for k in topics["keywords"]]
    parts += list(topics.get("authors") or [])
    if topics.get("library"):
        parts.append("your library")
    if liked:
        parts.append("papers you liked")
    return ", ".join(parts) or "none set"


def _trend_reason(paper: dict, match: Pick | None = None, follows: Sequence[str] = ()) -> str:
    """Why a paper trends, and the author followed or topic matched when there is one."""
    why = (paper.get("trending") or {}).get("why") or []
    reason = " · ".join(why[:2]) if why else "Among the newest papers"
    names = followed_in(follows, paper["authors"])
    if names:
        return f"{reason} · {_following(names)}"
    return f"{reason} · {_match_reason(match)}" if match else reason


def _pick_reason(pick: Pick, paper: dict, follows: Sequence[str]) -> str:
    names = followed_in(follows, paper["authors"])
    if not names:
        return pick.why
    others = [part for part in pick.why.split(" · ") if "whom you follow" not in part]
    return " · ".join([_following(names), *others[:1]])


def _following(names: list[str]) -> str:
    return f"New from {', '.join(names[:2])}, whom you follow"


def _match_reason(pick: Pick) -> str:
    return pick.why.split(" · ")[0]


def _paper_entry(paper: dict, reason: str, public_url: str, secret: str, subscriber: dict) -> dict:
    base = public_url.rstrip("/")
    return {
        "id": paper["id"],
        "title": paper["title"],
        "authors": paper["authors"],
        "abstract": paper["abstract"],
        "categories": paper["categories"],
        "published_at": paper["published_at"],
        "url": f"{base}/papers/{paper['id']}",
        "links": paper["links"],
        "reason": reason,
        "feedback": {
            "up": subscriptions.vote_url(public_url, secret, subscriber, paper["id"], True),
            "down": subscriptions.vote_url(public_url, secret, subscriber, paper["id"], False),
        },
    }
