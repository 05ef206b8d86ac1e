"""Copy a whole paperfeed database into another one: the move from a laptop's SQLite file to a
PostgreSQL server (or back, or between servers), with everything users made kept.

The copy reads one consistent snapshot of the source and writes the target in one
transaction, so an interrupted or failed copy leaves the target empty and can simply be run
again. It writes only into an empty target at the same schema revision (an empty one with
no schema is migrated first): merging two live instances is not what this is for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from paperfeed.errors import StorageError
from paperfeed.storage.db import current_revision, head_revision, migrate, writing
from paperfeed.storage.tables import metadata

BATCH = 2_000


@dataclass
class CopyProgress:
    """Rows copied so far of all rows in the source, and the tables finished."""

    records: int = 0
    total: int | None = None
    table: str = ""
    tables_done: int = 0
    rows_by_table: dict[str, int] = field(default_factory=dict)

    def postfix(self) -> dict[str, int]:
        return {"tables": self.tables_done}


def copy_database(
    source: sa.Engine,
    target: sa.Engine,
    *,
    on_progress: Callable[[CopyProgress], None] | None = None,
) -> CopyProgress:
    """Copy every table of `source` into the empty `target`; returns the rows per table."""
    if source.url.render_as_string(hide_password=False) == target.url.render_as_string(
        hide_password=False
    ):
        raise StorageError("the source and the target are the same database")
    if current_revision(source) != head_revision():
        raise StorageError(
            "the source database's schema is not current: run `paperfeed db migrate` on it first"
        )
    _prepare_target(target)
    progress = CopyProgress()
    with _snapshot(source) as reading, writing(target) as conn:
        _refuse_non_empty(conn)
        counts = {
            table.name: reading.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }
        progress.total = sum(counts.values())
        # Parents before children, so foreign keys hold at every insert.
        for table in metadata.sorted_tables:
            progress.table = table.name
            progress.rows_by_table[table.name] = 0
            for batch in _batches(reading, table):
                _write(conn, table, batch)
                progress.records += len(batch)
                progress.rows_by_table[table.name] += len(batch)
                if on_progress is not None:
                    on_progress(progress)
            progress.tables_done += 1
        if conn.dialect.name == "postgresql":
            _advance_sequences(conn)
    if on_progress is not None:
        on_progress(progress)
    return progress


def _prepare_target(target: sa.Engine) -> None:
    revision = current_revision(target)
    if revision is None:
        migrate(target)
    elif revision != head_revision():
        raise StorageError(
            f"the target database's schema is at revision {revision}, not {head_revision()}: "
            "copy into an empty database (this command creates the tables)"
        )


@contextmanager
def _snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A read transaction that sees one moment of the source, whatever writes go on."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def _refuse_non_empty(conn: sa.Connection) -> None:
    for table in metadata.sorted_tables:
        if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
            raise StorageError(
                f"the target database already holds data (table {table.name} has rows): "
                "copy only into an empty database"
            )


def _batches(conn: sa.Connection, table: sa.Table) -> Iterator[Sequence[sa.Row[*tuple[Any, ...]]]]:
    query = sa.select(table).order_by(*table.primary_key.columns)
    result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(query)
    yield from result.partitions()


def _write(conn: sa.Connection, table: sa.Table, rows: Sequence[sa.Row[*tuple[Any, ...]]]) -> None:
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert(), [dict(row._mapping) for row in rows])
        return
    # COPY, PostgreSQL's bulk path: the whole copy then takes 1.2x a bare COPY's time at a
    # million papers (bench/db_copy.py). The rows are already Python values the driver adapts
    # (aware UTC datetimes, bytes, JSON as text); the driver's connection is this transaction's.
    names = ", ".join(f'"{column.name}"' for column in table.columns)
    driver_connection = conn.connection.driver_connection
    assert driver_connection is not None  # the transaction holds the connection open
    cursor = driver_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


def _advance_sequences(conn: sa.Connection) -> None:
    """Rows came with their ids, so PostgreSQL's id sequences still stand at 1: move each past
    the largest id copied, or the next new row would collide with a copied one."""
    for table in metadata.sorted_tables:
        column = table.autoincrement_column
        if column is None:
            continue
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"COALESCE(MAX({column.name}), 1), MAX({column.name}) IS NOT NULL) "
                f"FROM {table.name}"
            ),
            {"table": table.name, "column": column.name},
        )
