"""Composing one subscriber's digest from an edition (edition.py): the trending papers not sent
before, personal picks with reasons, and the newest papers when nothing is personal.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from paperfeed.digest import subscriptions
from paperfeed.digest.edition import Edition
from paperfeed.digest.topics import Mutes, followed_in
from paperfeed.picks import loading as picks_loading
from paperfeed.picks.model import Pick, rank_picks
from paperfeed.picks.reader import Reader
from paperfeed.picks.shelf import ShelfPaper
from paperfeed.storage import library as library_store
from paperfeed.storage import subscribers as store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profile:
    """What one subscriber gave, as their digest uses it."""

    topics: dict  # subscriptions.DEFAULTS["topics"], filled in
    saved: tuple[str, ...]  # library papers, when the subscriber asked for papers like them
    liked: tuple[str, ...]
    disliked: frozenset[str]
    sent: frozenset[str]  # every paper they were ever sent
    own: list[ShelfPaper]  # the saved and voted papers, for the picks model
    own_vectors: dict[str, np.ndarray]

    @property
    def follows(self) -> list[str]:
        return list(self.topics["authors"])

    @property
    def is_personal(self) -> bool:
        """Whether they gave anything to pick by (otherwise: trending, then the newest)."""
        topics = self.topics
        return bool(
            topics["categories"] or topics["keywords"] or self.follows or self.saved or self.liked
        )

    def reader(self) -> Reader:
        return Reader(
            library=self.saved,
            liked=self.liked,
            disliked=tuple(self.disliked),
            categories=tuple(self.topics["categories"]),
            keywords=tuple(self.topics["keywords"]),
            authors=tuple(self.follows),
        )


def load_profile(engine: sa.Engine, subscriber: dict, model: str | None) -> Profile:
    topics = {**subscriptions.DEFAULTS["topics"], **(subscriber.get("topics") or {})}
    with engine.connect() as conn:
        sent = store.sent_paper_ids(conn, subscriber["id"])
        votes = store.votes(conn, subscriber["id"])
        saved = []
        if topics.get("library") and subscriber.get("user_id"):
            saved = [pid for pid, _ in library_store.marks_of(conn, "save", subscriber["user_id"])]
        own, own_vectors = picks_loading.load_papers(conn, [*saved, *votes], model)
    return Profile(
        topics=topics,
        saved=tuple(saved),
        liked=tuple(pid for pid, v in votes.items() if v > 0),
        disliked=frozenset(pid for pid, v in votes.items() if v < 0),
        sent=frozenset(sent),
        own=own,
        own_vectors=own_vectors,
    )


def compose(
    engine: sa.Engine, edition: Edition, subscriber: dict, *, public_url: str, secret: str
) -> dict:
    """The digest dict (see digest/render.py) for one subscriber and edition."""
    profile = load_profile(engine, subscriber, edition.model)
    allowed = _filter(edition, profile)
    follows = profile.follows
    count = subscriber.get("paper_count") or 10
    trending_room = max(1, math.ceil(count / 2)) if profile.is_personal else count
    top = [p for p in edition.trending if allowed(p)][:trending_room]
    chosen = {p["id"] for p in top}
    ranked = _ranked(engine, edition, profile, allowed, explain_top=count + len(top))
    pool_by_id = {p["id"]: p for p in edition.pool}
    # A pick "matches" when what the reader gave (not popularity) raised it the most; trending
    # papers that match say so, and only the others become picks.
    matches = [p for p in ranked[:count] if _is_match(p)]
    matched_top = {p.id: p for p in matches if p.id in chosen}
    # A followed author's new paper is always picked (first), whatever the model thinks of it.
    by_followed = [p for p in ranked if followed_in(follows, pool_by_id[p.id]["authors"])]
    first = {p.id for p in by_followed}
    rest = [p for p in ranked if p.id not in first]
    picks = [p for p in [*by_followed, *rest] if p.id not in chosen][: count - len(top)]
    health = list(edition.health)
    if profile.is_personal and not matches:
        described = _describe(profile.topics, profile.liked)
        health.append(f"Nothing new matched your topics ({described}) this time.")
    # A short trending list is topped up with the newest papers, so a quiet week still reads.
    taken = chosen | {p.id for p in picks}
    newest = []
    if not profile.is_personal:
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
        picked = [
            entry(pool_by_id[p.id], _pick_reason(p, pool_by_id[p.id], follows)) for p in picks
        ]
        sections.append({"title": "Picked for you", "papers": picked})
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


def _filter(edition: Edition, profile: Profile) -> Callable[[dict], bool]:
    """Whether a paper may go to this subscriber: never sent, not 👎, not muted."""
    blocked = set(profile.sent | profile.disliked)
    mutes = Mutes.of(profile.topics)
    for term in mutes.keywords:
        blocked |= edition.mentions(term)

    def allowed(paper: dict) -> bool:
        return paper["id"] not in blocked and not mutes.hides_by_name(paper)

    return allowed


def _ranked(
    engine: sa.Engine,
    edition: Edition,
    profile: Profile,
    allowed: Callable[[dict], bool],
    *,
    explain_top: int,
) -> list[Pick]:
    """The window's new papers this subscriber may get, best first for them."""
    if not (profile.is_personal and edition.pool):
        return []
    shelf = edition.shelf(engine).extend(profile.own, profile.own_vectors)
    candidates = [p["id"] for p in edition.pool if allowed(p)]
    return rank_picks(profile.reader(), candidates, shelf, explain_top=explain_top)


def paper_ids(digest: dict) -> list[str]:
    return [p["id"] for section in digest["sections"] for p in section["papers"]]


def _is_match(pick: Pick) -> bool:
    best = max(pick.parts.items(), key=lambda item: item[1], default=("", 0.0))
    return best[1] > 0 and best[0] != "popularity"


def _describe(topics: dict, liked: Sequence[str]) -> str:
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
