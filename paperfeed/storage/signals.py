"""Time-stamped engagement readings (upvotes, comments, stars, …) per paper and source.

A reading is stored only when it tells something new: not twice for the same instant, and not
when the value equals the reading just before it. So re-importing the same data changes
nothing, while trends can still be read as differences between readings.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from paperfeed.models import Signal
from paperfeed.storage.dialect import insert_ignoring_conflicts
from paperfeed.storage.tables import as_utc, signals

_ID_CHUNK = 900


def insert_signals(conn: sa.Connection, readings: Sequence[Signal]) -> int:
    """Store the readings that are new information; returns how many were stored."""
    if not readings:
        return 0
    history = _history(conn, {r.paper_id for r in readings})
    rows = []
    for reading in sorted(readings, key=lambda r: r.observed_at):
        key = (reading.paper_id, reading.source, reading.kind)
        times, values = history[key]
        at = as_utc(reading.observed_at)
        index = bisect.bisect_right(times, at)
        if index and (times[index - 1] == at or values[index - 1] == reading.value):
            continue
        times.insert(index, at)
        values.insert(index, reading.value)
        rows.append(
            {
                "paper_id": reading.paper_id,
                "source": reading.source,
                "kind": reading.kind,
                "value": reading.value,
                "observed_at": reading.observed_at,
            }
        )
    if rows:
        conn.execute(insert_ignoring_conflicts(conn, signals), rows)
    return len(rows)


def readings_for(conn: sa.Connection, paper_id: str) -> list[Signal]:
    query = (
        sa.select(signals)
        .where(signals.c.paper_id == paper_id)
        .order_by(signals.c.source, signals.c.kind, signals.c.observed_at)
    )
    return [
        Signal(r.paper_id, r.source, r.kind, r.value, r.observed_at) for r in conn.execute(query)
    ]


def latest_values(conn: sa.Connection, paper_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    """The newest value of each kind for each paper: {paper_id: {"upvotes": 12.0, …}}."""
    result: dict[str, dict[str, float]] = defaultdict(dict)
    for key, (_times, values) in _history(conn, set(paper_ids)).items():
        if values:
            result[key[0]][key[2]] = values[-1]
    return dict(result)


def count_signals(conn: sa.Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(signals)).scalar_one()


_Key = tuple[str, str, str]  # (paper_id, source, kind)


def _history(
    conn: sa.Connection, paper_ids: set[str]
) -> dict[_Key, tuple[list[datetime], list[float]]]:
    """The readings of each (paper_id, source, kind): their times and values, oldest first."""
    history: dict[_Key, tuple[list[datetime], list[float]]] = defaultdict(lambda: ([], []))
    ids = sorted(paper_ids)
    for start in range(0, len(ids), _ID_CHUNK):
        query = (
            sa.select(
                signals.c.paper_id,
                signals.c.source,
                signals.c.kind,
                signals.c.observed_at,
                signals.c.value,
            )
            .where(signals.c.paper_id.in_(ids[start : start + _ID_CHUNK]))
            .order_by(signals.c.observed_at)
        )
        for paper_id, source, kind, observed_at, value in conn.execute(query):
            times, values = history[(paper_id, source, kind)]
            times.append(observed_at)
            values.append(value)
    return history
