"""The trending score: fresh engagement with time decay, as a pure function that shows its parts.

Engagement arrives as increments: +1 local upvote at 09:12, +35 Hugging Face upvotes between
two readings, +300 GitHub stars. Each increment inside the window counts its amount times the
kind's weight, halved for every half-life between when it happened and `now`:

    score = Σ weight(kind) × amount × 0.5 ^ ((now − at) / half_life)     for window-start < at ≤ now

So a paper trends while people engage with it, whatever its age, and sinks as they stop. A
kind's points for one paper are capped by MAX_POINTS (views: one upvote's worth). The parts
(per source and kind: gained in the window, points) are what "why it is here" shows.
docs/trending.md gives the weights and the reasons for them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from paperfeed.models import Signal

WINDOWS: dict[str, timedelta] = {
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
}

# Points per unit. An upvote is the reference; saving is a stronger intent than an upvote; a
# comment is usually a question or a thank-you; stars and views come in far larger numbers.
WEIGHTS: dict[str, float] = {
    "upvotes": 1.0,
    "saves": 2.0,
    "comments": 0.5,
    "github_stars": 0.05,
    "views": 0.05,
}

# The most points a kind can give one paper in a window. Views are the one kind anyone can make
# without an account; capped, a flood of them (from many addresses) is worth one upvote at most.
MAX_POINTS: dict[str, float] = {"views": 1.0}

# How each kind reads in "why it is here" (singular, plural).
KIND_NAMES: dict[str, tuple[str, str]] = {
    "upvotes": ("upvote", "upvotes"),
    "saves": ("save", "saves"),
    "comments": ("comment", "comments"),
    "github_stars": ("GitHub star", "GitHub stars"),
    "views": ("view", "views"),
}
SOURCE_NAMES = {"hf": "on Hugging Face", "local": ""}  # others read "on <source>"


@dataclass(frozen=True)
class Increment:
    paper_id: str
    source: str  # "local", "hf", …
    kind: str  # "upvotes", "saves", "views", "comments", "github_stars"
    amount: float
    at: datetime


@dataclass
class Part:
    source: str
    kind: str
    gained: float  # raw amount gained inside the window
    points: float  # its contribution to the score, after weight and decay

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "gained": self.gained,
            "points": round(self.points, 4),
        }


@dataclass
class Trend:
    paper_id: str
    score: float = 0.0
    parts: list[Part] = field(default_factory=list)


def default_half_life(window: str) -> timedelta:
    """Half the window: a week's list still feels the start of the week, at half strength."""
    return WINDOWS[window] / 2


def increments_from_readings(readings: Iterable[Signal]) -> list[Increment]:
    """Turn cumulative readings (a count seen at a time) into increments between readings.

    The first reading of a series counts from zero: engagement a source had gathered before we
    first saw the paper happened at about that time. A count that went down (an upvote taken
    back) is a negative increment.
    """
    series: dict[tuple[str, str, str], list[Signal]] = defaultdict(list)
    for reading in readings:
        series[(reading.paper_id, reading.source, reading.kind)].append(reading)
    increments = []
    for (paper_id, source, kind), points in series.items():
        points.sort(key=lambda r: r.observed_at)
        previous = 0.0
        for reading in points:
            if reading.value != previous:
                increments.append(
                    Increment(paper_id, source, kind, reading.value - previous, reading.observed_at)
                )
            previous = reading.value
    return increments


def score_increments(
    increments: Sequence[Increment],
    *,
    now: datetime,
    window: timedelta,
    half_life: timedelta,
    weights: Mapping[str, float] = WEIGHTS,
) -> dict[str, Trend]:
    """Every paper with engagement in (now − window, now], with its score and parts."""
    start = now - window
    half_life_s = half_life.total_seconds()
    parts: dict[tuple[str, str, str], Part] = {}
    for inc in increments:
        if not start < inc.at <= now:
            continue
        weight = weights.get(inc.kind, 0.0)
        decay = 0.5 ** ((now - inc.at).total_seconds() / half_life_s)
        key = (inc.paper_id, inc.source, inc.kind)
        part = parts.get(key)
        if part is None:
            part = parts[key] = Part(inc.source, inc.kind, 0.0, 0.0)
        part.gained += inc.amount
        part.points += weight * inc.amount * decay
    trends: dict[str, Trend] = {}
    for (paper_id, _, kind), part in parts.items():
        part.points = min(part.points, MAX_POINTS.get(kind, math.inf))
        trend = trends.setdefault(paper_id, Trend(paper_id))
        trend.parts.append(part)
        trend.score += part.points
    for trend in trends.values():
        trend.parts.sort(key=lambda p: -p.points)
    return trends


def rank(trends: Mapping[str, Trend], limit: int) -> list[Trend]:
    """Highest score first; ties go to the paper with more raw engagement, then to the id."""
    positive = [t for t in trends.values() if t.score > 0]
    positive.sort(key=lambda t: (-t.score, -sum(p.gained for p in t.parts), t.paper_id))
    return positive[:limit]


def explain(
    parts: Sequence[Part], window: str, published_at: datetime | None, now: datetime
) -> list[str]:
    """Short lines for "why it is here": "+41 upvotes on Hugging Face in 24 h", "age 2 days"."""
    span = {"day": "in 24 h", "week": "this week", "month": "this month"}[window]
    lines = []
    for part in parts:
        if part.gained == 0:
            continue
        one, many = KIND_NAMES.get(part.kind, (part.kind, part.kind))
        amount = int(part.gained) if float(part.gained).is_integer() else round(part.gained, 1)
        noun = one if abs(amount) == 1 else many
        # Stars are GitHub's whoever relayed them; other kinds name their source.
        where = (
            ""
            if part.kind == "github_stars"
            else SOURCE_NAMES.get(part.source, f"on {part.source}")
        )
        lines.append(" ".join(w for w in (f"{amount:+,}", noun, where, span) if w))
    if published_at is not None:
        lines.append(f"age {_age(now - published_at)}")
    return lines


def _age(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    if hours < 1:
        return "under an hour"
    if hours < 24:
        return f"{int(hours)} hour{'s' if int(hours) != 1 else ''}"
    days = round(hours / 24)
    if days < 60:
        return f"{days} day{'s' if days != 1 else ''}"
    if days < 730:
        return f"{days // 30} months"
    return f"{days // 365} years"
