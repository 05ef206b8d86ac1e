"""Read the catalogue of papers: one paper, the newest papers, counts — as plain JSON-ready dicts.

The CLI (`papers show`, `papers list`, `stats`) and the web pages and their JSON twins all
call these, so every edge shows the same fields.
"""

from __future__ import annotations

import sqlalchemy as sa

from paperfeed.errors import InvalidInput, NotFound
from paperfeed.ingest.normalize import looks_like_arxiv_id, parse_arxiv_id
from paperfeed.models import StoredPaper
from paperfeed.storage import ingest_runs, papers, signals
from paperfeed.storage.db import writing

MAX_PAGE_SIZE = 1000


def paper_dict(stored: StoredPaper, latest: dict[str, float] | None = None) -> dict:
    """The public shape of a paper (CLI --json, web JSON twins)."""
    paper = stored.paper
    return {
        "id": paper.id,
        "arxiv_id": paper.arxiv_id,
        "version": paper.version,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": paper.authors,
        "categories": paper.categories,
        "primary_category": paper.primary_category,
        "versions": [
            {
                "version": v.number,
                "submitted_at": v.submitted_at.isoformat() if v.submitted_at else None,
            }
            for v in paper.versions
        ],
        "published_at": paper.published_at.isoformat() if paper.published_at else None,
        "updated_at": paper.updated_at.isoformat() if paper.updated_at else None,
        "comment": paper.comment,
        "journal_ref": paper.journal_ref,
        "doi": paper.doi,
        "links": {
            "abstract": paper.abs_url,
            "pdf": paper.pdf_url,
            "code": paper.code_url,
            "project": paper.project_url,
        },
        "sources": stored.sources,
        "signals": latest or {},
        "first_seen_at": stored.first_seen_at.isoformat(),
        "last_changed_at": stored.last_changed_at.isoformat(),
    }


def canonical_id(raw: str) -> str:
    """The stored id for what a user typed: an arXiv id (any version, URL) or a local id."""
    text = raw.strip()
    if text.startswith("local:"):
        return text
    if looks_like_arxiv_id(text):
        return parse_arxiv_id(text)[0]
    raise NotFound(f"no paper with id {raw!r} (expected an arXiv id such as 2104.12255)")


def get_paper(engine: sa.Engine, raw_id: str) -> dict:
    paper_id = canonical_id(raw_id)
    with engine.connect() as conn:
        stored = papers.get_paper(conn, paper_id)
        latest = signals.latest_values(conn, [paper_id]).get(paper_id)
    return paper_dict(stored, latest)


def get_papers(engine: sa.Engine, ids: list[str]) -> list[dict]:
    """Papers by id, in the order given; ids no longer stored are skipped."""
    with engine.connect() as conn:
        found = papers.get_stored(conn, ids)
        latest = signals.latest_values(conn, list(found))
    return [paper_dict(found[pid], latest.get(pid)) for pid in ids if pid in found]


def list_papers(
    engine: sa.Engine, *, limit: int = 20, offset: int = 0, category: str | None = None
) -> list[dict]:
    """Papers newest first, optionally only those listed in one category."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    if offset < 0:
        raise InvalidInput("offset must be 0 or more")
    with engine.connect() as conn:
        page = papers.list_newest(conn, limit=limit, offset=offset, category=category or None)
        latest = signals.latest_values(conn, [s.paper.id for s in page])
    return [paper_dict(s, latest.get(s.paper.id)) for s in page]


def list_categories(engine: sa.Engine) -> list[dict]:
    """Categories with their paper counts, most papers first."""
    with engine.connect() as conn:
        return [
            {"category": category, "papers": count}
            for category, count in papers.count_by_category(conn)
        ]


def remove_papers(engine: sa.Engine, raw_ids: list[str]) -> list[str]:
    """Remove papers by id; returns the ids removed. Search indexes notice on their next sync."""
    ids = [canonical_id(raw) for raw in raw_ids]
    with writing(engine) as conn:
        found = list(papers.get_stored(conn, ids))
        papers.delete_papers(conn, found)
    return found


def paper_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return papers.count_papers(conn)


def check_database(engine: sa.Engine) -> None:
    """One cheap read that fails when the database cannot answer (whatever its size)."""
    with engine.connect() as conn:
        papers.probe(conn)


def stats(engine: sa.Engine) -> dict:
    with engine.connect() as conn:
        newest = papers.latest_published_at(conn)
        return {
            "papers": papers.count_papers(conn),
            "signals": signals.count_signals(conn),
            "papers_by_source": papers.count_by_source(conn),
            "newest_published_at": newest.isoformat() if newest else None,
            "recent_runs": [
                {
                    "id": r["id"],
                    "source": r["source"],
                    "status": r["status"],
                    "started_at": r["started_at"].isoformat(),
                    "new": r["new"],
                    "updated": r["updated"],
                    "failed": r["failed"],
                }
                for r in ingest_runs.recent_runs(conn, 5)
            ],
        }
