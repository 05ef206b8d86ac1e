"""The digest's "Picked for you" through rank_picks: votes move papers, never slots."""

from datetime import timedelta

import pytest

from paperfeed.digest import compose as composing
from paperfeed.digest import subscriptions
from paperfeed.digest.edition import prepare
from paperfeed.ingest.run import ingest
from paperfeed.models import Batch
from paperfeed.storage import subscribers as store
from paperfeed.storage.db import writing
from tests.subscriptions.conftest import NOON, day_papers
from tests.support.sources import OneBatch

DAY = NOON.date()


@pytest.fixture
def day_of_papers(services):
    ingest(OneBatch(Batch(papers=day_papers())), services.engine, clock=lambda: NOON)
    return services


def _digest(services, email):
    edition = prepare(services.engine, DAY, "daily", now=NOON + timedelta(hours=20))
    with services.engine.connect() as conn:
        subscriber = store.get_by_email(conn, email)
    return composing.compose(
        services.engine, edition, subscriber, public_url="https://p.example.org", secret="s" * 32
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_dislikes_never_shrink_the_digest(day_of_papers):
    services = day_of_papers
    preferences = subscriptions.preferences_from({"categories": "cs.LG", "paper_count": "5"})
    subscriptions.add(services.engine, "ada@example.org", preferences, confirmed=True, now=NOON)
    before = composing.paper_ids(_digest(services, "ada@example.org"))
    assert len(before) == 5
    disliked = before[:2]
    with writing(services.engine) as conn:
        sid = store.get_by_email(conn, "ada@example.org")["id"]
        for pid in disliked:
            store.vote(conn, sid, pid, -1, NOON)
    digest = _digest(services, "ada@example.org")
    after = composing.paper_ids(digest)
    assert len(after) == 5  # the freed slots refill from the next best
    assert not set(disliked) & set(after)
    picked = [s for s in digest["sections"] if s["title"] == "Picked for you"][0]["papers"]
    assert all(p["reason"] for p in picked)
