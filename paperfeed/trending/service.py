"""Trending lists: live for now, frozen for past days, never an empty page.

`trending()` is what the home page, its JSON twin, the API, the feeds and the CLI call:
- no day, or today: computed live as of now;
- a past day: that day's edition (as of the end of the day, UTC), taken once and stored, so
  "trending on 2026-03-01" reads the same forever after;
- nothing engaged in the window: live lists fall back to the newest engagement on record, then
  to the newest papers; each fallback carries a note saying so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from paperfeed import catalog
from paperfeed.errors import InvalidInput
from paperfeed.storage import engagement, library, papers, signals
from paperfeed.storage import trending as store
from paperfeed.storage.db import writing
from paperfeed.trending.score import (
    WINDOWS,
    Increment,
    Part,
    Trend,
    default_half_life,
    explain,
    increments_from_readings,
    rank,
    score_increments,
)

MAX_LIMIT = 100
EDITION_SIZE = 100  # papers kept per frozen edition
SPANS = {"day": "24 hours", "week": "week", "month": "30 days"}


def trending(
    engine: sa.Engine,
    *,
    now: datetime,
    window: str = "day",
    category: str | None = None,
    day: date | None = None,
    limit: int = 30,
    half_life: timedelta | None = None,
) -> dict[str, Any]:
    """The trending list as a JSON-ready dict: papers, each with its score and why."""
    if window not in WINDOWS:
        raise InvalidInput(f"window must be one of {', '.join(WINDOWS)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    half_life = half_life or default_half_life(window)
    category = (category or "").strip()
    today = now.astimezone(UTC).date()
    if day is not None and day > today:
        raise InvalidInput(f"{day} has not happened yet; trending exists up to today ({today})")
    if day is not None and day < today:
        edition = take_edition(engine, day, window, category, half_life=half_life, now=now)
        return _edition_dict(engine, edition, limit, half_life)
    return _live(engine, now, window, category, limit, half_life)


def take_edition(
    engine: sa.Engine,
    day: date,
    window: str,
    category: str = "",
    *,
    half_life: timedelta | None = None,
    now: datetime,
) -> store.Edition:
    """The frozen edition of a past day: read it, or compute and store it the first time."""
    with engine.connect() as conn:
        existing = store.get_edition(conn, day, window, category)
    if existing is not None:
        return existing
    as_of = datetime.combine(day + timedelta(days=1), time(), UTC)
    half_life = half_life or default_half_life(window)
    with engine.connect() as conn:
        trends = _ranked(conn, as_of, window, category, half_life, EDITION_SIZE)
        if trends:
            basis, note = "engagement", None
            entries = [
                store.Entry(t.paper_id, t.score, [p.as_dict() for p in t.parts]) for t in trends
            ]
        else:
            basis = "newest"
            note = (
                f"Nothing was upvoted, saved or viewed {_where(category)} in the "
                f"{SPANS[window]} up to {day}: these are the newest papers of that day."
            )
            newest = papers.list_newest(
                conn, limit=EDITION_SIZE, category=category or None, published_before=as_of
            )
            entries = [store.Entry(s.paper.id, 0.0, []) for s in newest]
    edition = store.Edition(day, window, category, basis, note, now, entries)
    with writing(engine) as conn:
        store.save_edition(conn, edition)
    with engine.connect() as conn:  # whoever stored first, this is the edition now
        return store.get_edition(conn, day, window, category) or edition


def _ranked(
    conn: sa.Connection,
    as_of: datetime,
    window: str,
    category: str,
    half_life: timedelta,
    limit: int,
) -> list[Trend]:
    start = as_of - WINDOWS[window]
    readings = store.readings_for_window(conn, start, as_of, category or None)
    increments = increments_from_readings(readings)
    increments += [
        Increment(paper_id, "local", "views", 1.0, at)
        for paper_id, at in engagement.views_in_window(conn, start, as_of, category or None)
    ]
    for kind in ("upvote", "save"):
        increments += [
            Increment(paper_id, "local", kind + "s", 1.0, at)
            for paper_id, at in library.marks_in_window(conn, kind, start, as_of, category or None)
        ]
    scores = score_increments(increments, now=as_of, window=WINDOWS[window], half_life=half_life)
    return rank(scores, limit)


def _live(
    engine: sa.Engine, now: datetime, window: str, category: str, limit: int, half_life: timedelta
) -> dict[str, Any]:
    with engine.connect() as conn:
        as_of, note = now, None
        trends = _ranked(conn, now, window, category, half_life, limit)
        if not trends:
            latest = store.latest_reading_at(conn, now)
            if latest is not None and latest < now - WINDOWS[window]:
                trends = _ranked(conn, latest, window, category, half_life, limit)
                if trends:
                    as_of = latest
                    note = (
                        f"Nothing was upvoted, saved or viewed {_where(category)} in the last "
                        f"{SPANS[window]}: this is trending as of {latest:%Y-%m-%d %H:%M} UTC, "
                        "the newest engagement on record."
                    )
        if trends:
            found = papers.get_stored(conn, [t.paper_id for t in trends])
            latest_values = signals.latest_values(conn, list(found))
            listed = [
                _with_trend(
                    catalog.paper_dict(found[t.paper_id], latest_values.get(t.paper_id)),
                    rank_=i,
                    score=t.score,
                    parts=t.parts,
                    window=window,
                    as_of=as_of,
                )
                for i, t in enumerate((t for t in trends if t.paper_id in found), start=1)
            ]
            basis = "engagement"
        else:
            newest = papers.list_newest(conn, limit=limit, category=category or None)
            latest_values = signals.latest_values(conn, [s.paper.id for s in newest])
            listed = [catalog.paper_dict(s, latest_values.get(s.paper.id)) for s in newest]
            basis = "newest"
            note = f"No engagement recorded {_where(category)} yet: these are the newest papers."
    return _response(window, category, None, as_of, basis, note, half_life, listed)


def top_up(engine: sa.Engine, listing: dict[str, Any], limit: int) -> dict[str, Any]:
    """A live list shorter than `limit` (one upvote on a fresh instance makes a list of one)
    topped up with the newest papers, with a note that says so. What pages show;
    the API keeps the list as it is."""
    if listing["basis"] != "engagement" or listing["day"] or len(listing["papers"]) >= limit:
        return listing
    shown = {p["id"] for p in listing["papers"]}
    category = listing.get("category") or None
    with engine.connect() as conn:
        newest = papers.list_newest(conn, limit=limit, category=category)
        extra = [s for s in newest if s.paper.id not in shown][: limit - len(shown)]
        values = signals.latest_values(conn, [s.paper.id for s in extra])
    if not extra:
        return listing
    count = len(shown)
    thin = (
        f"Only {count} paper{'s' * (count != 1)} had engagement {_where(category or '')} in "
        f"this window: after {'it' if count == 1 else 'them'} come the newest papers."
    )
    return {
        **listing,
        "papers": [
            *listing["papers"],
            *(catalog.paper_dict(s, values.get(s.paper.id)) for s in extra),
        ],
        "note": f"{listing['note']} {thin}" if listing.get("note") else thin,
    }


def _edition_dict(
    engine: sa.Engine, edition: store.Edition, limit: int, half_life: timedelta
) -> dict[str, Any]:
    entries = edition.entries[:limit]
    as_of = datetime.combine(edition.day + timedelta(days=1), time(), UTC)
    with engine.connect() as conn:
        found = papers.get_stored(conn, [e.paper_id for e in entries])
        latest_values = signals.latest_values(conn, list(found))
    listed: list[dict[str, Any]] = []
    for entry in entries:
        if entry.paper_id not in found:  # removed since: the rest of the edition stands
            continue
        paper = catalog.paper_dict(found[entry.paper_id], latest_values.get(entry.paper_id))
        if edition.basis == "engagement":
            parts = [Part(p["source"], p["kind"], p["gained"], p["points"]) for p in entry.parts]
            paper = _with_trend(
                paper,
                rank_=len(listed) + 1,
                score=entry.score,
                parts=parts,
                window=edition.window,
                as_of=as_of,
            )
        listed.append(paper)
    return _response(
        edition.window,
        edition.category,
        edition.day,
        as_of,
        edition.basis,
        edition.note,
        half_life,
        listed,
    )


def _with_trend(
    paper: dict[str, Any],
    *,
    rank_: int,
    score: float,
    parts: list[Part],
    window: str,
    as_of: datetime,
) -> dict[str, Any]:
    published = datetime.fromisoformat(paper["published_at"]) if paper["published_at"] else None
    paper["trending"] = {
        "rank": rank_,
        "score": round(score, 4),
        "parts": [p.as_dict() for p in parts],
        "why": explain(parts, window, published, as_of),
    }
    return paper


def _response(
    window: str,
    category: str,
    day: date | None,
    as_of: datetime,
    basis: str,
    note: str | None,
    half_life: timedelta,
    listed: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "window": window,
        "category": category or None,
        "day": day.isoformat() if day else None,
        "as_of": as_of.isoformat(),
        "basis": basis,
        "note": note,
        "half_life_hours": round(half_life.total_seconds() / 3600, 2),
        "papers": listed,
    }


def _where(category: str) -> str:
    return f"in {category}" if category else "anywhere"
