"""Composing digests: the edition (what every subscriber shares for one day) and each
subscriber's digest (the trending papers not sent before, plus personal picks with reasons).

An edition is prepared once per run: the day's frozen trending list, the papers new in the
window with their stored vectors, and the health of the sources. Composing one subscriber's
digest is then in-memory work plus three small queries, so a run can compose thousands a second.

Picks score the window's new papers for one subscriber:
- a listed category: +1 ("New in cs.CL");
- a keyword: +2 when the text says it, or up to +2 by meaning (cosine of the keyword's embedding
  and the paper's, from 0.35 up) ("Mentions “diffusion”" / "About “diffusion”");
- "like my library" and 👍: up to +2 by cosine (from 0.5) to the nearest saved or liked paper;
- 👎: −2 for papers close (cosine ≥ 0.6) to one disliked.
Exclusions drop a paper whose title or abstract contains the term; papers sent before, ever,
are never sent again.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import sqlalchemy as sa

from paperfeed import catalog
from paperfeed.digest import subscriptions
from paperfeed.storage import embeddings, ingest_runs, papers, signals
from paperfeed.storage import library as library_store
from paperfeed.storage import subscribers as store
from paperfeed.trending.service import trending

log = logging.getLogger(__name__)

KEYWORD_SIMILARITY = 0.35
LIBRARY_SIMILARITY = 0.5
DISLIKE_SIMILARITY = 0.6
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
    embedder: object | None = None  # search.embedder.Embedder, to embed keywords
    _texts: list[str] = field(default_factory=list)
    _topic_vectors: dict[str, np.ndarray | None] = field(default_factory=dict)
    _row_of: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._texts = [f"{p['title']}\n{p['abstract']}".lower() for p in self.pool]
        self._row_of = {p["id"]: i for i, p in enumerate(self.pool)}

    def topic_vector(self, text: str) -> np.ndarray | None:
        if self.embedder is None or self.vectors is None:
            return None
        if text not in self._topic_vectors:
            try:
                self._topic_vectors[text] = self.embedder.encode([text])[0]
            except Exception as exc:  # noqa: BLE001 - a model failure costs only meaning-matching
                log.warning("could not embed a digest topic error=%s", exc)
                self._topic_vectors[text] = None
        return self._topic_vectors[text]


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
    embedder: object | None = None,
    half_life: timedelta | None = None,
) -> Edition:
    start, end = edition_window(day, frequency)
    window = "week" if frequency == "weekly" else "day"
    listing = trending(engine, now=now, window=window, day=day, limit=100, half_life=half_life)
    with engine.connect() as conn:
        new = papers.new_between(conn, start, end, limit=MAX_POOL)
        latest = signals.latest_values(conn, [s.paper.id for s in new])
        announced = papers.count_first_seen_between(conn, start, end)
        refreshed = ingest_runs.last_success_at(conn, end)
        stored = embeddings.get_vectors(conn, model, [s.paper.id for s in new]) if model else {}
    pool = [catalog.paper_dict(s, latest.get(s.paper.id)) for s in new]
    health = []
    quiet = announced == 0
    if quiet:
        span = "this week" if frequency == "weekly" else f"on {day:%a %-d %b}"
        health.append(f"arXiv announced no new papers {span} (a weekend or a holiday?).")
    if refreshed is None or refreshed < end - STALE_AFTER:
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
        embedder=embedder if vectors is not None else None,
    )


@dataclass
class Pick:
    paper: dict
    score: float = 0.0
    reasons: list[tuple[float, str]] = field(default_factory=list)

    def add(self, points: float, reason: str) -> None:
        self.score += points
        if points > 0:
            self.reasons.append((points, reason))


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
        seeds = _seed_vectors(conn, edition, saved + list(votes))
    excluded = [t.lower() for t in topics.get("exclude", [])]
    liked = [pid for pid, v in votes.items() if v > 0]
    disliked = {pid for pid, v in votes.items() if v < 0}

    def allowed(paper: dict) -> bool:
        if paper["id"] in sent or paper["id"] in disliked:
            return False
        text = f"{paper['title']}\n{paper['abstract']}".lower()
        return not any(_contains(text, term) for term in excluded)

    personal = bool(topics["categories"] or topics["keywords"] or saved or liked)
    count = subscriber.get("paper_count") or 10
    trending_room = count if not personal else max(1, math.ceil(count / 2))
    top = [p for p in edition.trending if allowed(p)][:trending_room]
    chosen = {p["id"] for p in top}
    # Trending papers that match a topic say so; only the others become picks.
    matches = _picks(edition, topics, saved, liked, disliked, seeds, allowed, set())
    matched_top = {p.paper["id"]: p for p in matches if p.paper["id"] in chosen}
    picks = [p for p in matches if p.paper["id"] not in chosen][: count - len(top)]
    health = list(edition.health)
    if personal and not matches:
        health.append(f"Nothing new matched your topics ({_describe(topics, liked)}) this time.")
    # A short trending list is topped up with the newest papers, so a quiet week still reads.
    taken = chosen | {p.paper["id"] for p in picks}
    newest = [p for p in edition.pool if p["id"] not in taken and allowed(p)]
    newest = newest[: max(0, count - len(top) - len(picks))] if not personal else []

    def entry(paper: dict, reason: str) -> dict:
        return _paper_entry(paper, reason, public_url, secret, subscriber)

    sections = []
    title = "Trending this week" if edition.frequency == "weekly" else "Trending today"
    if top:
        papers = [entry(p, _trend_reason(p, matched_top.get(p["id"]))) for p in top]
        sections.append({"title": title, "papers": papers})
    if picks:
        sections.append(
            {"title": "Picked for you", "papers": [entry(p.paper, _pick_reason(p)) for p in picks]}
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


def _seed_vectors(conn: sa.Connection, edition: Edition, ids: list[str]) -> dict[str, tuple]:
    """(title, unit vector) of library and voted papers, for meaning-matching."""
    if edition.vectors is None or not ids or edition.model is None:
        return {}
    vectors = embeddings.get_vectors(conn, edition.model, ids)
    titles = {s.paper.id: s.paper.title for s in papers.get_stored(conn, list(vectors)).values()}
    return {pid: (titles.get(pid, pid), vec) for pid, vec in vectors.items()}


def _picks(edition, topics, saved, liked, disliked, seeds, allowed, chosen) -> list[Pick]:  # noqa: ANN001
    candidates = {
        i: Pick(p) for i, p in enumerate(edition.pool) if p["id"] not in chosen and allowed(p)
    }
    if not candidates:
        return []
    rows = list(candidates)
    for category in topics["categories"]:
        for i in rows:
            if category in candidates[i].paper["categories"]:
                candidates[i].add(1.0, f"New in {category}")
    for keyword in topics["keywords"]:
        needle = keyword.lower()
        vector = edition.topic_vector(keyword)
        similarity = edition.vectors[rows] @ vector if vector is not None else None
        for n, i in enumerate(rows):
            if _contains(edition._texts[i], needle):
                candidates[i].add(2.0, f"Mentions “{keyword}”")
            elif similarity is not None and similarity[n] >= KEYWORD_SIMILARITY:
                candidates[i].add(2.0 * float(similarity[n]), f"About “{keyword}”")
    _like(edition, candidates, rows, seeds, saved, "in your library")
    _like(edition, candidates, rows, seeds, liked, "which you liked")
    for pid in disliked:
        if pid in seeds:
            similarity = edition.vectors[rows] @ seeds[pid][1]
            for n, i in enumerate(rows):
                if similarity[n] >= DISLIKE_SIMILARITY:
                    candidates[i].add(-2.0, "")
    ranked = [c for c in candidates.values() if c.score > 0 and c.reasons]
    ranked.sort(key=lambda c: (-c.score, c.paper["id"]))
    return ranked


def _like(edition, candidates, rows, seeds, ids, why) -> None:  # noqa: ANN001
    usable = [pid for pid in ids if pid in seeds]
    if not usable or edition.vectors is None:
        return
    matrix = np.vstack([seeds[pid][1] for pid in usable])
    similarity = edition.vectors[rows] @ matrix.T
    best = similarity.argmax(axis=1)
    for n, i in enumerate(rows):
        score = float(similarity[n, best[n]])
        if score >= LIBRARY_SIMILARITY and candidates[i].paper["id"] not in usable:
            title = seeds[usable[best[n]]][0]
            candidates[i].add(2.0 * score, f"Like “{_short(title)}”, {why}")


def _contains(text: str, term: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(term) + r"(?!\w)", text) is not None


def _short(title: str, limit: int = 60) -> str:
    return title if len(title) <= limit else title[: limit - 1].rsplit(" ", 1)[0] + "…"


def _describe(topics: dict, liked: list[str]) -> str:
    parts = list(topics["categories"]) + [f"“{k}”" for k in topics["keywords"]]
    if topics.get("library"):
        parts.append("your library")
    if liked:
        parts.append("papers you liked")
    return ", ".join(parts) or "none set"


def _trend_reason(paper: dict, match: Pick | None = None) -> str:
    """Why a paper trends, and the topic it matches when it does."""
    why = (paper.get("trending") or {}).get("why") or []
    reason = " · ".join(why[:2]) if why else "Among the newest papers"
    return f"{reason} · {_match_reason(match)}" if match else reason


def _pick_reason(pick: Pick) -> str:
    best = sorted(pick.reasons, key=lambda r: -r[0])
    return " · ".join(reason for _, reason in best[:2])


def _match_reason(pick: Pick) -> str:
    return max(pick.reasons, key=lambda r: r[0])[1]


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
