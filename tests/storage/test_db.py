"""Schema management: SQLite migrates itself, PostgreSQL refuses an old schema until migrated."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from paperfeed.config import load_settings
from paperfeed.errors import StorageError
from paperfeed.services import build
from paperfeed.storage.db import connect, current_revision, head_revision, migrate


def test_new_sqlite_database_migrates_itself_on_first_use(tmp_path):
    settings = load_settings({"home": str(tmp_path / "new" / "home")}, environ={})
    services = build(settings)
    assert current_revision(services.engine) == head_revision()
    assert (tmp_path / "new" / "home" / "paperfeed.db").exists()
    with services.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_out_of_date_postgresql_schema_is_refused_until_migrated(postgres_server, tmp_path):
    url = postgres_server.create_database()
    try:
        settings = load_settings({"home": str(tmp_path), "database_url": url}, environ={})
        with pytest.raises(StorageError, match="run `paperfeed db migrate`"):
            build(settings)
        engine = connect(url)
        assert migrate(engine) == (None, head_revision())
        assert migrate(engine) == (head_revision(), head_revision())  # a second run is a no-op
        engine.dispose()
        services = build(settings)
        assert set(sa.inspect(services.engine).get_table_names()) >= {"papers", "signals"}
        services.close()
    finally:
        postgres_server.drop_database(url)


def test_a_process_opens_at_most_twice_its_pool_size_on_postgresql(postgres_server, tmp_path):
    # Operators size the server's max_connections from this: 2 × pool size × processes.
    url = postgres_server.create_database()
    engine = connect(url)
    migrate(engine)
    engine.dispose()
    values = {"home": str(tmp_path), "database_url": url, "database_pool_size": 2}
    services = build(load_settings(values, environ={}))
    held = [services.engine.connect() for _ in range(4)]
    got_one = threading.Event()

    def fifth() -> None:
        with services.engine.connect():
            got_one.set()

    waiting = threading.Thread(target=fifth)
    try:
        waiting.start()
        assert not got_one.wait(1.0)  # a fifth waits for one of the four
        held.pop().close()
        assert got_one.wait(10.0)
    finally:
        waiting.join()
        for conn in held:
            conn.close()
        services.close()
        postgres_server.drop_database(url)


def test_unusable_database_urls_get_a_clear_error():
    with pytest.raises(StorageError, match="not a database URL"):
        connect("not a url")
    with pytest.raises(StorageError, match="unsupported database 'mysql'"):
        connect("mysql://localhost/x")


def test_migrations_build_exactly_the_declared_schema(services):
    """The migrations and tables.py describe one schema: no table, column or index missing."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from paperfeed.storage.tables import metadata

    with services.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_a_process_finds_another_migrating_the_same_sqlite_file_and_waits_for_it(tmp_path):
    """A server and a worker started together after an upgrade: one migrates, the other waits
    for the write lock instead of failing with "database is locked"."""
    import sqlite3
    import threading

    from alembic import command

    from paperfeed.storage.db import _alembic_config, ensure_schema

    url = f"sqlite:///{tmp_path / 'paperfeed.db'}"
    older = connect(url)
    command.upgrade(_alembic_config(older), "m0006")  # the schema of the previous release
    older.dispose()
    first = sqlite3.connect(tmp_path / "paperfeed.db", isolation_level=None)
    first.execute("BEGIN IMMEDIATE")  # the other process, mid-migration
    waiting = connect(url, busy_timeout_ms=100)
    outcome = []
    second = threading.Thread(
        target=lambda: outcome.append(ensure_schema(waiting, auto_migrate=True) or "current")
    )
    second.start()
    second.join(timeout=2)
    assert second.is_alive()  # still waiting, not failed
    first.execute("ROLLBACK")
    first.close()
    second.join(timeout=60)
    assert outcome == ["current"]
    assert current_revision(waiting) == head_revision()
    waiting.dispose()
