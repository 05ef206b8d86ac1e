"""Search fixtures: real papers in a real database, the real MiniLM model, real indexes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from paperfeed.ingest.run import ingest
from paperfeed.ingest.sources.bulk_file import BulkFileSource
from paperfeed.models import Paper, StoredPaper
from paperfeed.search.embedder import DEFAULT_MODEL, Embedder, resolve_model_path
from paperfeed.search.indexing import embed_papers
from paperfeed.search.service import SearchService
from paperfeed.storage.db import writing
from paperfeed.storage.papers import get_stored, insert_papers, update_papers

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def minilm(tmp_path_factory) -> Embedder:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole run."""
    return Embedder(
        DEFAULT_MODEL, resolve_model_path(DEFAULT_MODEL, tmp_path_factory.mktemp("m"))
    ).load()


@pytest.fixture
def search(services, minilm) -> SearchService:
    """A search service that checks the database on every call (refresh_s=0)."""
    return SearchService(
        services.engine,
        index_dir=services.settings.index_dir,
        model=DEFAULT_MODEL,
        refresh_s=0,
        embedder=minilm,
    )


@pytest.fixture
def real_papers(services, test_data) -> int:
    """The 65 real arXiv records of tests/data/search, ingested as a user would."""
    report = ingest(
        BulkFileSource(test_data / "search" / "papers.jsonl"), services.engine, clock=lambda: T0
    )
    return report.new


def embed(services, embedder: Embedder, **kwargs):
    return embed_papers(services.engine, embedder, clock=services.clock, **kwargs)


def paper(paper_id: str, title: str, abstract: str = "", **fields) -> Paper:
    fields.setdefault("published_at", T0)
    return Paper(id=paper_id, title=title, abstract=abstract, source="test", **fields)


def add(engine, *papers: Paper, at: datetime = T0) -> None:
    with writing(engine) as conn:
        insert_papers(
            conn,
            [StoredPaper(p, ["test"], first_seen_at=at, last_changed_at=at) for p in papers],
        )


def change(engine, paper_id: str, at: datetime, **fields) -> None:
    with writing(engine) as conn:
        stored = get_stored(conn, [paper_id])[paper_id]
        for name, value in fields.items():
            setattr(stored.paper, name, value)
        stored.last_changed_at = at
        update_papers(conn, [stored])


def ids(response) -> list[str]:
    return [r["id"] for r in response.results]
