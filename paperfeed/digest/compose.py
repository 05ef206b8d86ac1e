"""Composing digests: the edition (what every subscriber shares for one day) and each
subscriber's digest (the trending papers not sent before, plus personal picks with reasons).

An edition is prepared once per run: the day's frozen trending list, the papers new in the
window with their stored vectors, and the health of the sources. Composing one subscriber's
digest is then in-memory work plus three small queries; what subscribers share (which papers
mention a term, each topic's points per paper, keyword vectors) is worked out once per edition.
bench/digest.py measures a whole run; docs/benchmarks.md has the numbers.

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

import itertools
import logging
import math
import re
from collections.abc import Callable, Iterable
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
    # What many subscribers share is worked out once per edition: the lower-cased text of each
    # paper (pool and trending), which papers mention a term, each topic's points per pool row.
    _texts: dict[str, str] = field(default_factory=dict)
    _topic_vectors: dict[str, np.ndarray | None] = field(default_factory=dict)
    _row_of: dict[str, int] = field(default_factory=dict)
    _id_rank: np.ndarray | None = None  # each pool row's place in id order, to break ties
    _mentions: dict[str, frozenset[str]] = field(default_factory=dict)
    _points: dict[tuple[str, str], np.ndarray | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._texts = {p["id"]: _text(p) for p in [*self.pool, *self.trending]}
        self._row_of = {p["id"]: i for i, p in enumerate(self.pool)}
        by_id = sorted(range(len(self.pool)), key=lambda i: self.pool[i]["id"])
        self._id_rank = np.empty(len(self.pool), dtype=np.intp)
        self._id_rank[by_id] = np.arange(len(by_id))

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

    def embed_topics(self, texts: Iterable[str]) -> None:
        """Embed these keywords in one batch ahead of composing: one model call per keyword
        costs about 10 ms, and a run can meet thousands of distinct keywords."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._topic_vectors]
        if self.embedder is None or self.vectors is None or not missing:
            return
        try:
            vectors = self.embedder.encode(missing)
        except Exception as exc:  # noqa: BLE001 - topic_vector tries each one again
            log.warning("could not embed digest topics error=%s", exc)
            return
        self._topic_vectors.update(zip(missing, vectors, strict=True))

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

    def category_points(self, category: str) -> np.ndarray:
        """+1 for each pool paper listed in `category`."""
        key = ("category", category)
        if key not in self._points:
            self._points[key] = np.array(
                [1.0 if category in p["categories"] else 0.0 for p in self.pool]
            )
        return self._points[key]

    def mention_points(self, keyword: str) -> np.ndarray:
        """+2 for each pool paper whose text says `keyword`."""
        key = ("mention", keyword)
        if key not in self._points:
            ids = self.mentions(keyword.lower())
            self._points[key] = np.array([2.0 if p["id"] in ids else 0.0 for p in self.pool])
        return self._points[key]

    def meaning_points(self, keyword: str) -> np.ndarray | None:
        """Up to +2 by cosine, from KEYWORD_SIMILARITY, for pool papers that do not say
        `keyword`; None without vectors."""
        key = ("meaning", keyword)
        if key not in self._points:
            vector = self.topic_vector(keyword)
            points = None
            if vector is not None:
                similarity = (self.vectors @ vector).astype(np.float64)
                close = (similarity >= KEYWORD_SIMILARITY) & (self.mention_points(keyword) == 0)
                points = np.where(close, 2.0 * similarity, 0.0)
            self._points[key] = points
        return self._points[key]


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
    topic_vectors: dict[str, np.ndarray | None] | None = None,
) -> Edition:
    """The edition of `day` for daily or weekly subscribers. `topic_vectors` is a cache of
    keyword vectors (of `model`) that editions of one run share."""
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
        _topic_vectors={} if topic_vectors is None else topic_vectors,
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
    liked = [pid for pid, v in votes.items() if v > 0]
    disliked = {pid for pid, v in votes.items() if v < 0}
    blocked = sent | disliked
    for term in topics.get("exclude", []):
        blocked |= edition.mentions(term.lower())

    def allowed(paper: dict) -> bool:
        return paper["id"] not in blocked

    personal = bool(topics["categories"] or topics["keywords"] or saved or liked)
    count = subscriber.get("paper_count") or 10
    trending_room = count if not personal else max(1, math.ceil(count / 2))
    top = [p for p in edition.trending if allowed(p)][:trending_room]
    chosen = {p["id"] for p in top}
    # Trending papers that match a topic say so; only the others become picks.
    room = count - len(top)
    matches = _picks(edition, topics, saved, liked, disliked, seeds, blocked, chosen, max(1, room))
    matched_top = {p.paper["id"]: p for p in matches if p.paper["id"] in chosen}
    picks = [p for p in matches if p.paper["id"] not in chosen][:room]
    health = list(edition.health)
    if personal and not matches:
        health.append(f"Nothing new matched your topics ({_describe(topics, liked)}) this time.")
    # A short trending list is topped up with the newest papers, so a quiet week still reads.
    taken = chosen | {p.paper["id"] for p in picks}
    newest = []
    if not personal:
        fresh = (p for p in edition.pool if p["id"] not in taken and allowed(p))
        newest = list(itertools.islice(fresh, max(0, count - len(top) - len(picks))))

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


# A rule gives each pool row its points (0 where it does not apply) and says why for a row.
Rule = tuple[np.ndarray, Callable[[int], str]]


def _picks(edition, topics, saved, liked, disliked, seeds, blocked, chosen, limit) -> list[Pick]:  # noqa: ANN001
    """Every match among the `chosen` papers and the best `limit` others, best first.

    Scored for the whole pool at once with numpy; reasons are written only for what is kept.
    """
    if not edition.pool:
        return []
    rules: list[Rule] = []
    for category in topics["categories"]:
        rules.append((edition.category_points(category), _saying(f"New in {category}")))
    for keyword in topics["keywords"]:
        rules.append((edition.mention_points(keyword), _saying(f"Mentions “{keyword}”")))
        meaning = edition.meaning_points(keyword)
        if meaning is not None:
            rules.append((meaning, _saying(f"About “{keyword}”")))
    rules += _like(edition, seeds, saved, "in your library")
    rules += _like(edition, seeds, liked, "which you liked")
    for pid in disliked:
        if pid in seeds:
            similarity = edition.vectors @ seeds[pid][1]
            rules.append((np.where(similarity >= DISLIKE_SIMILARITY, -2.0, 0.0), _saying("")))
    score = np.zeros(len(edition.pool))
    has_reason = np.zeros(len(edition.pool), dtype=bool)
    for points, _ in rules:  # in this order, so each score is the same sum as one by one
        score += points
        has_reason |= points > 0
    eligible = has_reason & (score > 0)
    eligible[[edition._row_of[pid] for pid in blocked if pid in edition._row_of]] = False
    rows = np.flatnonzero(eligible)
    rows = rows[np.lexsort((edition._id_rank[rows], -score[rows]))]
    chosen_rows = {edition._row_of[pid] for pid in chosen if pid in edition._row_of}
    kept, others = [], 0
    for row in rows.tolist():
        if row not in chosen_rows:
            if others == limit:
                continue
            others += 1
        reasons = [(float(points[row]), why(row)) for points, why in rules if points[row] > 0]
        kept.append(Pick(edition.pool[row], float(score[row]), reasons))
    return kept


def _saying(reason: str) -> Callable[[int], str]:
    return lambda _row: reason


def _like(edition, seeds, ids, why) -> list[Rule]:  # noqa: ANN001
    usable = [pid for pid in ids if pid in seeds]
    if not usable or edition.vectors is None:
        return []
    similarity = edition.vectors @ np.vstack([seeds[pid][1] for pid in usable]).T
    best = similarity.argmax(axis=1)
    closest = similarity[np.arange(len(best)), best].astype(np.float64)
    points = np.where(closest >= LIBRARY_SIMILARITY, 2.0 * closest, 0.0)
    points[[edition._row_of[pid] for pid in usable if pid in edition._row_of]] = 0.0
    titles = [_short(seeds[pid][0]) for pid in usable]
    return [(points, lambda row: f"Like “{titles[best[row]]}”, {why}")]


def _text(paper: dict) -> str:
    return f"{paper['title']}\n{paper['abstract']}".lower()


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
