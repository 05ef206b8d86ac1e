"""A small day of papers for digests: eight papers first seen on DAY, two of them trending."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from paperfeed.digest import subscriptions
from paperfeed.digest.send import Sender
from paperfeed.ingest.run import ingest
from paperfeed.mail.backends import backend_from_url
from paperfeed.models import Batch, Paper, Signal
from tests.support.sources import OneBatch

DAY = date(2026, 3, 2)  # a Monday
NOON = datetime.combine(DAY, time(12), UTC)
SEND_AT = datetime.combine(DAY + timedelta(days=1), time(7), UTC)

TOPICS = [
    ("2603.00001", "Sparse attention for long documents", "cs.CL", "attention transformers"),
    ("2603.00002", "Diffusion models for protein design", "q-bio.BM", "diffusion proteins"),
    ("2603.00003", "A survey of retrieval augmented generation", "cs.CL", "retrieval survey"),
    ("2603.00004", "Graph neural networks for molecules", "cs.LG", "graphs molecules"),
    ("2603.00005", "Speech recognition with tiny models", "eess.AS", "speech"),
    ("2603.00006", "Reinforcement learning from human feedback", "cs.LG", "RLHF alignment"),
    ("2603.00007", "Topological data analysis of <b>images</b>", "math.AT", "topology"),
    ("2603.00008", "Quantum error correction codes", "quant-ph", "qubits"),
]

# Most papers are by Ada Lovelace and Alan Turing; these are not (for follows and mutes).
AUTHORS = {
    "2603.00001": ["Ada Lovelace", "Edsger Dijkstra"],
    "2603.00005": ["Grace Hopper"],
}


def day_papers() -> list[Paper]:
    return [
        Paper(
            id=pid,
            title=title,
            abstract=f"We study {about} with $O(n \\log n)$ methods. <script>alert(1)</script>",
            authors=AUTHORS.get(pid, ["Ada Lovelace", "Alan Turing"]),
            categories=[category],
            primary_category=category,
            published_at=NOON - timedelta(hours=6),
            source="arxiv-oai",
        )
        for pid, title, category, about in TOPICS
    ]


@pytest.fixture
def day_of_papers(services):
    signals = [
        Signal("2603.00001", "hf", "upvotes", 40, NOON),
        Signal("2603.00002", "hf", "upvotes", 25, NOON),
    ]
    ingest(
        OneBatch(Batch(papers=day_papers(), signals=signals)),
        services.engine,
        clock=lambda: NOON,
    )
    return services


@pytest.fixture
def sender_for(smtp_server):
    def make(clock=lambda: SEND_AT, **options) -> Sender:
        return Sender(
            backend=backend_from_url(smtp_server.url),
            sender="paperfeed <digest@papers.example.org>",
            public_url="https://papers.example.org",
            clock=clock,
            **options,
        )

    return make


def add_subscriber(services, email: str, **form) -> dict:
    preferences = subscriptions.preferences_from(form)
    return subscriptions.add(services.engine, email, preferences, confirmed=True, now=NOON)
