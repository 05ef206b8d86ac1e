"""The subscribers of bench/digest.py (drawn from the corpus's categories and title words)
and the edition's ledger: reset before each run, counted after it."""

from __future__ import annotations

import collections
import json
import random
import re
import secrets
from datetime import timedelta

import ingest as ingest_bench  # a sibling script, not a package
from digest_common import BACKFILL_AT, DAY, DAY_START, SEED, WORK, say

DOMAINS = ("example.org", "example.com", "example.net")
STOPWORDS = frozenset(
    "a an and are as at be by for from in into is it its of on or over that the their this to "
    "towards toward under via with without using based through beyond can do does how is not "
    "what when where which why new large study approach method methods model models learning "
    "data framework analysis system systems task tasks towards toward more than your our all "
    "one two three multi".split()
)


def topic_vocabulary() -> tuple[list[str], list[int], list[str], list[int]]:
    """(categories, their counts, keywords, their counts) from the real corpus."""
    corpus = ingest_bench.build_corpora(["83k"])["83k"]
    categories: collections.Counter = collections.Counter()
    words: collections.Counter = collections.Counter()
    pairs: collections.Counter = collections.Counter()
    with corpus.open() as lines:
        for line in lines:
            record = json.loads(line)
            categories.update(record["categories"].split())
            tokens = re.findall(r"[a-z][a-z-]*[a-z]", record["title"].lower())
            kept = [t for t in tokens if len(t) > 3 and t not in STOPWORDS]
            words.update(set(kept))
            pairs.update(
                {f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)}
                & {f"{a} {b}" for a, b in zip(kept, kept[1:], strict=False)}
            )
    top_words = words.most_common(600)
    top_pairs = pairs.most_common(400)
    keywords = top_words + top_pairs
    # Real arXiv category names only: the corpus's lists hold a few stray ACM classes ("I.5.1;").
    cats = [(c, n) for c, n in categories.most_common() if re.fullmatch(r"[a-z-]+\.[A-Za-z-]+", c)]
    return (
        [c for c, _ in cats],
        [n for _, n in cats],
        [k for k, _ in keywords],
        [n for _, n in keywords],
    )


def ensure_subscribers(engine, count: int, voted: list[str]) -> dict:
    """Exactly `count` confirmed subscribers (the same ones for the same count)."""
    import sqlalchemy as sa

    from paperfeed.digest.subscriptions import preferences_from
    from paperfeed.storage.db import writing
    from paperfeed.storage.tables import deliveries, digest_feedback, sent_papers, subscribers

    with engine.connect() as conn:
        have = conn.execute(sa.select(sa.func.count()).select_from(subscribers)).scalar_one()
    marker = WORK / "subscribers.json"
    if have == count and marker.exists():
        return json.loads(marker.read_text())
    say(f"subscribers: writing {count:,}")
    categories, category_counts, keywords, keyword_counts = topic_vocabulary()
    excludes = keywords[:40]
    rng = random.Random(SEED)
    rows, votes, sent = [], [], []
    kinds: collections.Counter = collections.Counter()
    for n in range(1, count + 1):
        form: dict = {
            "frequency": "weekly" if rng.random() < 0.25 else "daily",
            "paper_count": str(rng.choice([5, 10, 10, 10, 10, 15, 20])),
            "send_hour": str(rng.randrange(24)),
        }
        if rng.random() >= 0.10:
            ncat = rng.choices([0, 1, 2, 3], [20, 40, 30, 10])[0]
            nkey = rng.choices([0, 1, 2, 3], [30, 30, 25, 15])[0]
            if ncat == nkey == 0:
                nkey = 1
            form["categories"] = sorted(set(rng.choices(categories, category_counts, k=ncat)))
            form["keywords"] = sorted(set(rng.choices(keywords, keyword_counts, k=nkey)))
            kinds["categories"] += bool(ncat)
            kinds["keywords"] += bool(nkey)
        else:
            kinds["trending only"] += 1
        if rng.random() < 0.10:
            form["exclude"] = [rng.choice(excludes)]
            kinds["exclusions"] += 1
        preferences = preferences_from(form)
        rows.append(
            {
                "id": n,
                "email": f"reader{n:06d}@{rng.choice(DOMAINS)}",
                "status": "confirmed",
                "topics": json.dumps(preferences["topics"], sort_keys=True),
                "frequency": preferences["frequency"],
                "send_hour": preferences["send_hour"],
                "time_zone": preferences["time_zone"],
                "paper_count": preferences["paper_count"],
                "link_key": secrets.token_hex(16),
                "created_at": BACKFILL_AT,
                "confirmed_at": BACKFILL_AT,
            }
        )
        kinds[preferences["frequency"]] += 1
        if rng.random() < 0.05:
            kinds["votes"] += 1
            for paper_id in rng.sample(voted, rng.randint(1, 4)):
                at = DAY_START - timedelta(days=rng.uniform(1, 6))
                value = 1 if rng.random() < 0.8 else -1
                votes.append(
                    {"subscriber_id": n, "paper_id": paper_id, "vote": value, "voted_at": at}
                )
                sent.append({"subscriber_id": n, "paper_id": paper_id, "edition_day": at.date()})
    with writing(engine) as conn:
        # The tables that refer to subscribers first: a cascade from each deleted subscriber
        # scans all of `deliveries` (its key starts with edition_day), 100,000 times over.
        for table in (deliveries, sent_papers, digest_feedback, subscribers):
            conn.execute(sa.delete(table))
        for start in range(0, len(rows), 5000):
            conn.execute(sa.insert(subscribers), rows[start : start + 5000])
        if votes:
            conn.execute(sa.insert(digest_feedback), votes)
            conn.execute(sa.insert(sent_papers), sent)
    summary = {"count": count, "kinds": dict(kinds), "distinct_keywords": len(set(keywords))}
    with engine.connect() as conn:
        topics = conn.execute(sa.select(subscribers.c.topics)).scalars()
        used = {k for t in topics for k in json.loads(t)["keywords"]}
    summary["keywords_in_use"] = len(used)
    marker.write_text(json.dumps(summary, indent=1))
    return summary


def reset_edition(engine) -> None:
    """Forget the previous run's sending of this edition, so every run sends it afresh."""
    import sqlalchemy as sa

    from paperfeed.storage.db import writing
    from paperfeed.storage.tables import deliveries, sent_papers

    with writing(engine) as conn:
        conn.execute(sa.delete(deliveries).where(deliveries.c.edition_day == DAY))
        conn.execute(sa.delete(sent_papers).where(sent_papers.c.edition_day == DAY))
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def ledger_counts(engine) -> dict:
    from paperfeed.storage import deliveries

    with engine.connect() as conn:
        return deliveries.counts(conn, DAY)
