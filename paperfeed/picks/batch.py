"""Rank many readers' candidates in one go: what `paperfeed picks --batch` runs.

Each request is {"id", "library", "liked", "disliked", "topics", "candidates"} (all but "id" and
"candidates" optional, other keys ignored). Every paper must already be stored. All requests
share one shelf (their papers and the background, tf-idf fitted once, vectors read once), so a
batch costs one load, not one per line. Never prints; one bad request is reported, not raised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from paperfeed.errors import InvalidInput, NotFound
from paperfeed.picks.loading import load_background, load_papers
from paperfeed.picks.model import rank_picks
from paperfeed.picks.reader import Reader
from paperfeed.picks.shelf import Shelf

_CATEGORY = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")
_ID_LISTS = ("library", "liked", "disliked", "candidates")


@dataclass
class Request:
    id: object
    reader: Reader
    candidates: list[str]
    line: int = 0


@dataclass
class Answer:
    id: object
    results: list[dict] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    error: str | None = None
    line: int = 0

    def as_dict(self) -> dict:
        if self.error is not None:
            return {"id": self.id, "line": self.line, "error": self.error}
        out: dict = {"id": self.id, "results": self.results}
        if self.missing:
            out["missing"] = self.missing
        return out


def parse_request(item: object, canonical_id, line: int = 0) -> Request:
    """A request from one decoded JSON line; InvalidInput says what is wrong with it."""
    if not isinstance(item, dict):
        raise InvalidInput("expected a JSON object")
    if "candidates" not in item:
        raise InvalidInput('missing "candidates"')
    lists = {}
    for key in _ID_LISTS:
        value = item.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInput(f'"{key}" must be a list of arXiv ids')
        lists[key] = [canonical_id(v) for v in value]
    topics = item.get("topics") or ""
    if not isinstance(topics, str):
        raise InvalidInput('"topics" must be text')
    categories, keywords, authors = split_topics(topics)
    reader = Reader(
        library=tuple(lists["library"]),
        liked=tuple(lists["liked"]),
        disliked=tuple(lists["disliked"]),
        categories=categories,
        keywords=keywords,
        authors=authors,
    )
    return Request(item.get("id"), reader, lists["candidates"], line)


def split_topics(text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """ "cs.CL, diffusion, author:Jane Doe" → categories, keywords, followed authors."""
    categories, keywords, authors = [], [], []
    for part in re.split(r"[,;\n]", text):
        term = part.strip()
        if not term:
            continue
        if term.lower().startswith("author:"):
            authors.append(term[7:].strip())
        elif "." in term and " " not in term and _CATEGORY.match(term):
            categories.append(term)
        else:
            keywords.append(term)
    return tuple(categories), tuple(keywords), tuple(authors)


def rank_requests(
    engine: sa.Engine, model: str | None, requests: Iterable[Request], *, limit: int | None = None
) -> Iterator[Answer]:
    """One answer per request, in order: its candidates ranked, best first."""
    requests = list(requests)
    wanted = {
        pid
        for r in requests
        for pid in (*r.candidates, *r.reader.library, *r.reader.liked, *r.reader.disliked)
    }
    with engine.connect() as conn:
        listed, vectors = load_papers(conn, sorted(wanted), model)
        background, background_vectors = load_background(conn, model)
    if not listed:
        raise NotFound("none of the batch's papers are in the database (ingest them first)")
    shelf = Shelf(
        [*listed, *background],
        {**background_vectors, **vectors},
        background=[p.id for p in background],
    )
    for request in requests:
        own = (*request.reader.library, *request.reader.liked, *request.reader.disliked)
        missing = [pid for pid in dict.fromkeys([*request.candidates, *own]) if pid not in shelf]
        picks = rank_picks(request.reader, request.candidates, shelf, explain_top=limit)
        if limit is not None:
            picks = picks[:limit]
        results = [{"id": p.id, "score": round(p.score, 4), "why": p.why} for p in picks]
        yield Answer(request.id, results, missing, line=request.line)
