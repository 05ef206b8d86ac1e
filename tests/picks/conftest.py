"""Picks fixtures: the 65 real arXiv records of tests/data/search as a shelf, with their words
and their meaning by the real bundled MiniLM model (the CLI and digest tests use a real SQLite
database instead)."""

from __future__ import annotations

import json

import pytest

from paperfeed.picks.shelf import Shelf, ShelfPaper
from paperfeed.search.embedder import DEFAULT_MODEL, Embedder, embedded_text, resolve_model_path

PEACOCK = "2403.01031"  # Arabic multimodal LLMs
CHINESE_MIXTRAL = "2403.01851"  # language adaptation of an LLM to Chinese
PARAMANU = "2403.13681"  # pretraining LLMs for a language (Sanskrit)
ULTRASOUND = "2403.02750"  # speckle noise in ultrasound images
LEGAL_INDIA = "2403.10944"  # Indian legal text analytics
LEGAL_CASES = "2403.18405"  # LLMs for relevance judgments in legal cases


@pytest.fixture(scope="session")
def shelf_papers(test_data) -> list[ShelfPaper]:
    papers = []
    with (test_data / "search" / "papers.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            papers.append(
                ShelfPaper(
                    id=record["arxiv_id"].rsplit("v", 1)[0],
                    title=record["title"],
                    abstract=record["abstract"],
                    authors=tuple(record["authors"]),
                    categories=tuple(record["categories"]),
                )
            )
    return papers


@pytest.fixture(scope="session")
def shelf(shelf_papers, tmp_path_factory) -> Shelf:
    model = Embedder(DEFAULT_MODEL, resolve_model_path(DEFAULT_MODEL, tmp_path_factory.mktemp("m")))
    vectors = model.encode([embedded_text(p.title, p.abstract) for p in shelf_papers])
    return Shelf(shelf_papers, dict(zip([p.id for p in shelf_papers], vectors, strict=True)))


@pytest.fixture(scope="session")
def all_ids(shelf_papers) -> list[str]:
    return [p.id for p in shelf_papers]
