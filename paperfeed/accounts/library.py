"""A person's library: upvotes, saved papers and named collections, and what pages show of them.

Upvotes and saves count for trending as local engagement at the moment they were made; taking
one back removes it from the score as well.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from paperfeed import catalog
from paperfeed.errors import InvalidInput, NotFound
from paperfeed.storage import library as store
from paperfeed.storage import papers
from paperfeed.storage.db import writing
from paperfeed.storage.tables import is_row_id

MAX_COLLECTION_NAME = 200
MAX_COLLECTIONS = 500


def _known_paper(conn: sa.Connection, raw_id: str) -> str:
    paper_id = catalog.canonical_id(raw_id)
    if not papers.get_stored(conn, [paper_id]):
        raise NotFound(f"no paper with id {raw_id!r}")
    return paper_id


def set_mark(
    engine: sa.Engine, kind: str, user_id: int, raw_id: str, on: bool, now: datetime
) -> dict:
    """Upvote / save a paper (on=True) or take it back; returns the paper's new state."""
    with writing(engine) as conn:
        paper_id = _known_paper(conn, raw_id)
        if on:
            store.mark(conn, kind, user_id, paper_id, now)
        else:
            store.unmark(conn, kind, user_id, paper_id)
        return _state(conn, [paper_id], user_id)[paper_id]


def engagement(engine: sa.Engine, paper_ids: list[str], user_id: int | None) -> dict[str, dict]:
    """Per paper: local upvote and save counts, and whether this person upvoted or saved it."""
    with engine.connect() as conn:
        return _state(conn, paper_ids, user_id)


def _state(conn: sa.Connection, paper_ids: list[str], user_id: int | None) -> dict[str, dict]:
    upvotes = store.counts(conn, "upvote", paper_ids)
    saves = store.counts(conn, "save", paper_ids)
    upvoted = store.marked_by(conn, "upvote", user_id, paper_ids) if user_id else set()
    saved = store.marked_by(conn, "save", user_id, paper_ids) if user_id else set()
    return {
        pid: {
            "upvotes": upvotes.get(pid, 0),
            "saves": saves.get(pid, 0),
            "upvoted": pid in upvoted,
            "saved": pid in saved,
        }
        for pid in paper_ids
    }


def collection_name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise InvalidInput("give the collection a name")
    if len(name) > MAX_COLLECTION_NAME:
        raise InvalidInput(f"a collection name has at most {MAX_COLLECTION_NAME} characters")
    return name


def create_collection(engine: sa.Engine, user_id: int, raw_name: str | None, now: datetime) -> int:
    name = collection_name(raw_name)
    with writing(engine) as conn:
        if len(store.collections_of(conn, user_id)) >= MAX_COLLECTIONS:
            raise InvalidInput(f"a library holds at most {MAX_COLLECTIONS} collections")
        return store.create_collection(conn, user_id, name, now)


def delete_collection(engine: sa.Engine, user_id: int, collection_id: int) -> None:
    if not is_row_id(collection_id):
        raise NotFound("no such collection in your library")
    with writing(engine) as conn:
        if not store.delete_collection(conn, user_id, collection_id):
            raise NotFound("no such collection in your library")


def file_paper(
    engine: sa.Engine, user_id: int, collection_id: int, raw_id: str, on: bool, now: datetime
) -> None:
    """Put a paper into one of this person's collections (saving it too), or take it out."""
    if not is_row_id(collection_id):
        raise NotFound("no such collection in your library")
    with writing(engine) as conn:
        if not store.owns_collection(conn, user_id, collection_id):
            raise NotFound("no such collection in your library")
        paper_id = _known_paper(conn, raw_id)
        if on:
            store.mark(conn, "save", user_id, paper_id, now)
            store.add_to_collection(conn, collection_id, paper_id, now)
        else:
            store.remove_from_collection(conn, collection_id, paper_id)


def library(engine: sa.Engine, user: dict) -> dict:
    """Everything /library shows: saved papers (newest first), upvotes, and collections."""
    with engine.connect() as conn:
        saved = store.marks_of(conn, "save", user["id"])
        upvoted = store.marks_of(conn, "upvote", user["id"])
        collections = store.collections_of(conn, user["id"])
    found = {p["id"]: p for p in catalog.get_papers(engine, [pid for pid, _ in saved])}
    return {
        "email": user["email"],
        "saved": [
            dict(found[pid], saved_at=at.isoformat()) if pid in found else _missing(pid, at)
            for pid, at in saved
        ],
        "upvoted": [{"id": pid, "upvoted_at": at.isoformat()} for pid, at in upvoted],
        "collections": [
            {
                "id": c["id"],
                "name": c["name"],
                "created_at": c["created_at"].isoformat(),
                "papers": c["papers"],
            }
            for c in collections
        ],
    }


def _missing(paper_id: str, at: datetime) -> dict:
    """A saved paper this instance no longer stores: kept, shown by id."""
    return {"id": paper_id, "title": paper_id, "missing": True, "saved_at": at.isoformat()}


def collection(engine: sa.Engine, user_id: int, collection_id: int) -> dict:
    with engine.connect() as conn:
        found = next(
            (c for c in store.collections_of(conn, user_id) if c["id"] == collection_id), None
        )
    if found is None:
        raise NotFound("no such collection in your library")
    return {
        "id": found["id"],
        "name": found["name"],
        "created_at": found["created_at"].isoformat(),
        "papers": catalog.get_papers(engine, found["papers"]),
    }
