"""The few statements whose SQL differs between SQLite and PostgreSQL, side by side."""

from __future__ import annotations

import operator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from paperfeed.storage.tables import UtcDateTime


def insert_ignoring_conflicts(conn: sa.Connection, table: sa.Table) -> sa.Insert:
    """INSERT … ON CONFLICT DO NOTHING, for either dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def bulk_insert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """INSERT many rows through the driver's executemany, skipping per-row SQLAlchemy work.

    This is the bulk-load path (tens of thousands of rows a second): values go to the driver
    as they are, so on SQLite datetimes are turned into text here, in the exact format
    SQLAlchemy itself writes, so that reads and comparisons through SQLAlchemy still agree.
    `rows` must all have the same keys; datetimes in them are replaced in place.
    """
    if not rows:
        return
    columns = list(rows[0])
    if conn.dialect.name == "sqlite":
        placeholders = ", ".join("?" for _ in columns)
        times = [c for c in columns if isinstance(table.c[c].type, UtcDateTime)]
        last_value, last_text = None, None  # a batch shares one "now": convert it once
        for row in rows:
            for name in times:
                value = row[name]
                if value is None:
                    continue
                if value is not last_value:
                    last_value, last_text = value, _sqlite_time(value)
                row[name] = last_text
    else:
        placeholders = ", ".join("%s" for _ in columns)
    values_of = operator.itemgetter(*columns)
    data = (
        [values_of(row) for row in rows]
        if len(columns) > 1
        else [(values_of(row),) for row in rows]
    )
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"
    conn.exec_driver_sql(sql, data)


def _sqlite_time(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def upsert(conn: sa.Connection, table: sa.Table, key: str, values: dict[str, Any]) -> None:
    """Insert `values`, or update every other column of the row whose `key` matches."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = module.insert(table).values(values)
    updates = {name: statement.excluded[name] for name in values if name != key}
    conn.execute(statement.on_conflict_do_update(index_elements=[key], set_=updates))
