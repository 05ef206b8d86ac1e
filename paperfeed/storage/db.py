"""Open the database (SQLite or PostgreSQL), keep its schema current, and check it.

`connect(url)` returns a SQLAlchemy engine with SQLite tuned for one writer and many readers
(WAL, foreign keys, a busy timeout). `migrate(engine)` runs the Alembic migrations;
`ensure_schema(engine, auto_migrate)` is what services call at start: SQLite migrates itself,
PostgreSQL refuses to run on an out-of-date schema so that an upgrade is always deliberate.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from paperfeed.errors import StorageError

log = logging.getLogger(__name__)

# 16 KiB pages (SQLite's default is 4 KiB) mean fewer, larger writes: bulk loads run about
# 15% faster. It only takes effect when the database file is created.
SQLITE_PAGE_SIZE = 16_384
WRITER_LOCK_ID = 0x70617065  # "pape": the advisory lock all paperfeed writers share
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_WAIT_S = 600.0  # how long a process waits for another one migrating the same file


def connect(url: str, *, busy_timeout_ms: int = 10_000, pool_size: int = 5) -> sa.Engine:
    """An engine for `url`; the SQLite file's folder is created when missing. On PostgreSQL
    the process keeps up to `pool_size` connections and opens as many more under load."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StorageError(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        return _connect_sqlite(parsed, busy_timeout_ms)
    if parsed.get_backend_name() != "postgresql":
        raise StorageError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
        )
    try:
        return sa.create_engine(
            parsed, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size
        )
    except ModuleNotFoundError as exc:
        raise StorageError(
            f"the PostgreSQL driver is not installed ({exc.name}): "
            "pip install 'paperfeed[postgres]'"
        ) from exc


def safe_url(url: str) -> str:
    """The URL to show a person: the password masked."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _connect_sqlite(url: sa.URL, busy_timeout_ms: int) -> sa.Engine:
    if url.database and url.database != ":memory:":
        folder = Path(url.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            problem = f"cannot create the data directory {folder}: {exc.strerror}"
            raise StorageError(problem) from exc
    engine = sa.create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})

    @sa.event.listens_for(engine, "connect")
    def _tune(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy's BEGIN run (not pysqlite's implicit one) so transactions are real.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # 64 MiB of page cache keeps index pages hot during bulk loads (the default is 2 MiB).
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        # A writer takes the lock up front (IMMEDIATE) so two writers queue on busy_timeout
        # instead of failing on a lock upgrade; readers never block anyone under WAL.
        is_writer = conn.get_execution_options().get("paperfeed_writer", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if is_writer else "BEGIN")

    return engine


@contextmanager
def writing(engine: sa.Engine, *, row_locks: bool = False) -> Iterator[sa.Connection]:
    """A connection in a write transaction, committed on exit and rolled back on error.

    `row_locks=True` is for short transactions that lock their own rows (the delivery ledger's
    FOR UPDATE SKIP LOCKED): on PostgreSQL they skip the writers' shared lock and run side by
    side; on SQLite every writer still takes turns.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(paperfeed_writer=True)
        with conn.begin():
            if conn.dialect.name == "postgresql" and not row_locks:
                # Writers take turns, as BEGIN IMMEDIATE makes them on SQLite: a batch reads
                # the stored papers, merges and writes, and must not interleave with another.
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK_ID,))
            yield conn


def _alembic_config(engine: sa.Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    script = ScriptDirectory.from_config(_alembic_config(sa.create_engine("sqlite://")))
    head = script.get_current_head()
    if head is None:  # only a broken install ships without its migrations
        raise StorageError(f"no migrations in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: sa.Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except sa.exc.SQLAlchemyError as exc:
        raise StorageError(f"cannot open the database: {_reason(exc)}") from exc


def _reason(exc: sa.exc.SQLAlchemyError) -> str:
    # The driver's own message, on one line, without SQLAlchemy's background links.
    text = str(getattr(exc, "orig", None) or exc)
    return " ".join(text.split())[:300]


def migrate(engine: sa.Engine) -> tuple[str | None, str | None]:
    """Bring the schema to the newest revision; returns (revision before, revision after)."""
    before = current_revision(engine)
    _refuse_newer(before)
    try:
        command.upgrade(_alembic_config(engine), "head")
    except (sa.exc.SQLAlchemyError, CommandError) as exc:
        raise StorageError(f"migration failed: {exc.__class__.__name__}: {exc}") from exc
    after = current_revision(engine)
    if before != after:
        log.info("migrated schema from=%s to=%s", before, after)
    return before, after


def ensure_schema(engine: sa.Engine, *, auto_migrate: bool) -> None:
    """Make sure the schema is current: migrate it, or refuse with a message saying how."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    _refuse_newer(current)
    if auto_migrate:
        _migrate_or_wait(engine, head)
        return
    raise StorageError(
        f"the database schema is at revision {current or 'none'} but this paperfeed needs {head}: "
        "run `paperfeed db migrate` (after a backup) to upgrade it"
    )


def _migrate_or_wait(engine: sa.Engine, head: str) -> None:
    """Migrate; when another process (a server and a worker started together after an
    upgrade) holds the file's write lock, wait for it to finish the same migration."""
    deadline = time.monotonic() + MIGRATION_WAIT_S
    while True:
        try:
            migrate(engine)
            return
        except StorageError as exc:
            if "database is locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.5)
        if current_revision(engine) == head:
            return


def _refuse_newer(revision: str | None) -> None:
    if revision is None:
        return
    script = ScriptDirectory.from_config(_alembic_config(sa.create_engine("sqlite://")))
    try:
        script.get_revision(revision)
    except CommandError:
        raise StorageError(
            f"the database schema is at revision {revision}, which this paperfeed does not know: "
            "it was written by a newer version; upgrade paperfeed"
        ) from None


def is_sqlite(engine_or_conn: sa.Engine | sa.Connection) -> bool:
    return engine_or_conn.dialect.name == "sqlite"
