"""Digests built from real papers: LaTeX-heavy arXiv records from the shared corpus (with their
ids, authors and categories) and the demo's seed papers (title and abstract only)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from paperfeed.digest import links

SITE = "https://papers.example.org"
SECRET = "digest-test-secret"
SUBSCRIBER = {"id": 42, "link_key": "k3y-for-ada", "email": "ada@example.org"}
# Real February 2026 cs.AI listings whose titles and abstracts are full of inline LaTeX.
MATH_IDS = ("2602.08007v1", "2602.12107v1", "2602.13506v1", "2602.10449v2", "2602.01642v1")
CORPUS_FILE = "C_arxiv_metadata_corpus/daydayarxiv_csAI_2026-02.jsonl.gz"


def _signed(purpose: str) -> str:
    return links.sign(SECRET, SUBSCRIBER, purpose)


def paper_entry(record: dict, reason: str) -> dict:
    """One PAPER of the digest schema, shaped as compose.compose() shapes it."""
    arxiv_id = record.get("arxiv_id", "").split("v")[0] or record["id"]
    return {
        "id": arxiv_id,
        "title": record["title"],
        "authors": record.get("authors", []),
        "abstract": record["abstract"],
        "categories": record.get("categories", []),
        "published_at": (record.get("published_date") or "").replace(" UTC", "") or None,
        "url": f"{SITE}/papers/{arxiv_id}",
        "links": {
            "abstract": f"https://arxiv.org/abs/{arxiv_id}" if "arxiv_id" in record else None,
            "pdf": record.get("pdf_url"),
            "code": record.get("code"),
        },
        "reason": reason,
        "feedback": {
            "up": f"{SITE}/digest/vote/{_signed('up:' + arxiv_id)}",
            "down": f"{SITE}/digest/vote/{_signed('down:' + arxiv_id)}",
        },
    }


def make_digest(sections: list[tuple[str, list[dict]]], **overrides) -> dict:
    digest = {
        "date": "2026-03-01",
        "site": {"name": "paperfeed", "url": SITE},
        "subscriber": {
            "email": SUBSCRIBER["email"],
            "preferences_url": f"{SITE}/subscription/{_signed('manage')}",
            "unsubscribe_url": f"{SITE}/unsubscribe/{_signed('manage')}",
        },
        "frequency": "daily",
        "health": [],
        "sections": [{"title": title, "papers": papers} for title, papers in sections],
    }
    digest.update(overrides)
    return digest


@pytest.fixture(scope="session")
def math_records(shared_data: Path) -> list[dict]:
    found = {}
    with gzip.open(shared_data / CORPUS_FILE, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["arxiv_id"] in MATH_IDS:
                found[record["arxiv_id"]] = record
    assert set(found) == set(MATH_IDS), "the shared arXiv corpus lacks a test paper"
    return [found[i] for i in MATH_IDS]


@pytest.fixture(scope="session")
def seed_records(shared_data: Path) -> list[dict]:
    lines = (shared_data / "seed-papers.jsonl").read_text(encoding="utf-8").splitlines()
    return [{"id": f"seed-{n}", **json.loads(line)} for n, line in enumerate(lines, 1)]


@pytest.fixture
def real_digest(math_records, seed_records) -> dict:
    """A typical daily digest: five trending papers and three picks, one of them with code."""
    trending = [
        paper_entry(r, "Trending: 48 upvotes on Hugging Face · 3 comments") for r in math_records
    ]
    picked_records = [dict(seed_records[1], code="https://github.com/antgroup/cakekv")]
    picked_records += seed_records[5:7]
    picks = [paper_entry(r, "About “KV cache”, one of your keywords") for r in picked_records]
    return make_digest([("Trending today", trending), ("Picked for you", picks)])
