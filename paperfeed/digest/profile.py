"""What a subscriber taught their picks: see and undo 👍/👎 votes, reset them, follow authors and
mute keywords, authors or categories; and their digest as a feed.

One function per use case; the preferences page (after checking its signed link) and
`paperfeed subscribers …` call the same ones with the subscriber's id. The learned profile is
the votes themselves (picks/model.py learns from them at every edition), so resetting it is
taking every vote back.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from paperfeed import catalog
from paperfeed.accounts.addresses import normalize_email
from paperfeed.digest import links, subscriptions
from paperfeed.digest.topics import Mutes
from paperfeed.errors import InvalidInput, NotFound
from paperfeed.storage import papers
from paperfeed.storage import subscribers as store
from paperfeed.storage.db import writing

# What `follow`/`mute` change, by kind, and how each is named to a person.
LISTS = {
    "author": ("authors", "followed authors"),
    "muted keyword": ("exclude", "muted keywords"),
    "muted author": ("exclude_authors", "muted authors"),
    "muted category": ("exclude_categories", "muted categories"),
}


def find(engine: sa.Engine, raw_email: str) -> dict:
    """The subscriber with this address; NotFound when there is none."""
    email = normalize_email(raw_email)
    with engine.connect() as conn:
        found = store.get_by_email(conn, email)
    if found is None:
        raise NotFound(f"{email} is not a subscriber")
    return found


def votes_of(engine: sa.Engine, subscriber_id: int) -> list[dict]:
    """Each vote, newest first: {paper_id, title, up, voted_at} (title "" once a paper is gone)."""
    with engine.connect() as conn:
        votes = store.vote_list(conn, subscriber_id)
        stored = papers.get_stored(conn, [v["paper_id"] for v in votes])
    return [
        {
            "paper_id": vote["paper_id"],
            "title": stored[vote["paper_id"]].paper.title if vote["paper_id"] in stored else "",
            "up": vote["vote"] > 0,
            "voted_at": vote["voted_at"],
        }
        for vote in votes
    ]


def undo_votes(engine: sa.Engine, subscriber_id: int, paper_ids: list[str]) -> int:
    """Take back the votes on these papers; how many there were."""
    with writing(engine) as conn:
        return store.unvote(conn, subscriber_id, paper_ids)


def reset_votes(engine: sa.Engine, subscriber_id: int) -> int:
    """Forget every vote: the next digest learns only from topics and the library again."""
    with writing(engine) as conn:
        return store.unvote(conn, subscriber_id)


def change_list(
    engine: sa.Engine, subscriber_id: int, kind: str, term: str, *, remove: bool = False
) -> dict:
    """Add `term` to (or take it off) one of a subscriber's lists (LISTS); the new topics.

    Adding what is there, or removing what is not, changes nothing.
    """
    if kind not in LISTS:
        raise InvalidInput(f"kind must be one of: {', '.join(LISTS)}")
    key, _ = LISTS[kind]
    [term] = subscriptions.terms([term]) or [""]
    if not term:
        raise InvalidInput(f"name the {kind}")
    if key == "exclude_categories":
        subscriptions.check_category(term)
    with writing(engine) as conn:
        subscriber = store.get(conn, subscriber_id)
        if subscriber is None:
            raise NotFound("no such subscriber")
        topics = {**subscriptions.DEFAULTS["topics"], **subscriber["topics"]}
        current = list(topics[key])
        same = [t for t in current if t.casefold() == term.casefold()]
        if remove:
            current = [t for t in current if t not in same]
        elif not same:
            current.append(term)
        topics[key] = subscriptions.terms(current)  # the same limits as the form
        store.update(conn, subscriber_id, topics=topics)
        return topics


FEED_SIZE = 50


def digest_feed(engine: sa.Engine, token: str, now: datetime) -> tuple[dict, list[dict]]:
    """(subscriber, papers) of a feed link: the papers their digests brought, newest edition
    first, each with `reason` naming its edition. Today's mutes apply to past editions too."""
    with writing(engine) as conn:
        subscriber, _ = links.verify(conn, token, ("feed",), now)
        history = store.sent_history(conn, subscriber["id"], FEED_SIZE)
    mutes = Mutes.of(subscriber["topics"])
    day_of = dict(history)
    shown = [p for p in catalog.get_papers(engine, list(day_of)) if not mutes.hides(p)]
    for paper in shown:
        paper["reason"] = f"In your digest of {day_of[paper['id']].isoformat()}"
    return subscriber, shown
