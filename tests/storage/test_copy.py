"""`paperfeed db copy`: a laptop's SQLite instance moved to PostgreSQL (and back) with every
row of every table, so that people stay signed in, subscribers keep their topics, and a digest
already sent is not sent again from the new server."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from paperfeed.digest.send import send_edition
from paperfeed.errors import StorageError
from paperfeed.ingest.run import ingest
from paperfeed.models import Batch, RecordFailure, Signal
from paperfeed.storage import (
    accounts,
    embeddings,
    engagement,
    jobs,
    library,
    outbox,
    rate_limits,
)
from paperfeed.storage import subscribers as subscriber_store
from paperfeed.storage.copy import copy_database
from paperfeed.storage.db import connect, writing
from paperfeed.storage.tables import metadata
from tests.subscriptions.conftest import DAY, NOON, add_subscriber, day_papers
from tests.support.live import cli_env, run_cli


class ResumableBatch:
    """One batch from an incremental harvest, which keeps its checkpoint for the next run (the
    server's harvest must go on from the laptop's), with one bad record reported."""

    name = "arxiv-oai"
    incremental = True

    def checkpoint_key(self) -> str:
        return "arxiv-oai:cs"

    def batches(self, checkpoint):
        yield Batch(
            papers=day_papers(),
            signals=[
                Signal("2603.00001", "hf", "upvotes", 40, NOON),
                Signal("2603.00002", "hf", "upvotes", 25, NOON),
            ],
            failures=[RecordFailure("arxiv-oai", "record 9", "no title")],
            checkpoint={"resumption_token": "abc|1001"},
        )


@pytest.fixture
def laptop(services, tmp_path):
    """An instance in use: papers, vectors, a frozen trending day, accounts with votes, saves
    and a collection, subscribers with a digest sent, rate limits and a claimed worker job —
    a row in every table."""
    ingest(ResumableBatch(), services.engine, clock=lambda: NOON)
    services.trending(window="day", category="", day=DAY, limit=100)  # freezes the edition
    add_subscriber(services, "ada@example.org", keywords="diffusion", categories="cs.CL")
    add_subscriber(services, "bob@example.org")
    assert send_edition(services.engine, services.digest_sender(), DAY).sent == 2
    later = NOON + timedelta(hours=1)
    ids = [p.id for p in day_papers()]
    with writing(services.engine) as conn:
        vectors = np.random.default_rng(7).standard_normal((len(ids), 8)).astype("float32")
        embeddings.save_vectors(conn, "fast", [(i, "h" + i, NOON) for i in ids], vectors, later)
        engagement.record_view(conn, ids[0], "visitor-1", later)
        user = accounts.user_id_for(conn, "ada@example.org", later)
        accounts.store_sign_in_token(conn, "t" * 64, "ada@example.org", later, later)
        accounts.start_session(conn, "s" * 64, user, later, later + timedelta(days=30))
        library.mark(conn, "upvote", user, ids[1], later)
        library.mark(conn, "save", user, ids[2], later)
        collection = library.create_collection(conn, user, "To read", later)
        library.add_to_collection(conn, collection, ids[3], later)
        rate_limits.hit(conn, "sign-in:ada@example.org", later, timedelta(hours=1))
        ada = subscriber_store.get_by_email(conn, "ada@example.org")
        subscriber_store.vote(conn, ada["id"], ids[1], 1, later)
        jobs.claim(conn, "snapshot", DAY, "worker-1", later, later + timedelta(minutes=10))
        outbox.add(conn, "sign-in", b"To: ada@example.org\r\n\r\n\xff", later, later)
    with services.engine.connect() as conn:
        empty = [t.name for t in metadata.sorted_tables if not _count(conn, t)]
    assert not empty, f"the fixture leaves tables empty, so their copy is untested: {empty}"
    return services, cli_env(tmp_path / "laptop", services.settings.database_url)


def _count(conn: sa.Connection, table: sa.Table) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def _rows(url: str) -> dict[str, list[dict]]:
    engine = connect(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: [
                    dict(row._mapping)
                    for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns))
                ]
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


@pytest.fixture
def other_database(database_url, postgres_server, tmp_path):
    """An empty database of the other kind: PostgreSQL for a SQLite source, and back."""
    if database_url.startswith("sqlite"):
        url = postgres_server.create_database()
        yield url
        postgres_server.drop_database(url)
    else:
        yield f"sqlite:///{tmp_path / 'laptop-copy.db'}"


def test_copy_moves_every_row_and_the_new_server_carries_on(laptop, other_database, tmp_path):
    services, env = laptop
    done = run_cli("db", "copy", other_database, env=env)
    assert done.returncode == 0, done.stderr
    assert "copied" in done.stdout and "papers" in done.stdout
    source = _rows(services.settings.database_url)
    assert _rows(other_database) == source

    server = cli_env(tmp_path / "server", other_database)
    # The digest of DAY went out from the laptop: the server does not send it again.
    again = run_cli("digest", "send", "--date", DAY.isoformat(), "--json", env=server)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["sent"] == 0
    # New rows get new ids (PostgreSQL's sequences were moved past the copied ids).
    added = run_cli("subscribers", "add", "cy@example.org", "--confirmed", env=server)
    assert added.returncode == 0, added.stderr
    listed = json.loads(run_cli("subscribers", "list", "--json", env=server).stdout)
    assert sorted(s["email"] for s in listed) == [
        "ada@example.org",
        "bob@example.org",
        "cy@example.org",
    ]
    engine = connect(other_database)
    with engine.connect() as conn:
        signed_in = accounts.session_user(conn, "s" * 64, NOON + timedelta(days=1))
    engine.dispose()
    assert signed_in is not None and signed_in["email"] == "ada@example.org"
    found = run_cli("search", "protein design", "--json", "--limit", "3", env=server)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["id"] == "2603.00002"


def test_copy_refuses_a_target_that_holds_data_and_leaves_it_alone(laptop, other_database):
    services, env = laptop
    assert run_cli("db", "copy", other_database, env=env).returncode == 0
    before = _rows(other_database)
    again = run_cli("db", "copy", other_database, env=env)
    assert again.returncode == 1
    assert "already holds data" in again.stderr and "Traceback" not in again.stderr
    assert _rows(other_database) == before


def test_an_interrupted_copy_leaves_the_target_empty_and_can_run_again(laptop, other_database):
    services, _ = laptop
    target = connect(other_database)

    def interrupt(progress) -> None:
        if progress.records > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_database(services.engine, target, on_progress=interrupt)
    with target.connect() as conn:
        assert all(_count(conn, t) == 0 for t in metadata.sorted_tables)
    copied = copy_database(services.engine, target)
    target.dispose()
    assert copied.rows_by_table["papers"] == len(day_papers())
    assert _rows(other_database) == _rows(services.settings.database_url)


def test_copy_refuses_the_same_database_and_a_bad_target(services, tmp_path):
    with pytest.raises(StorageError, match="same database"):
        copy_database(services.engine, connect(services.settings.database_url))
    env = cli_env(tmp_path / "home", services.settings.database_url)
    bad = run_cli("db", "copy", "mysql://somewhere/paperfeed", env=env)
    assert bad.returncode == 1
    assert "unsupported database 'mysql'" in bad.stderr and "Traceback" not in bad.stderr
