"""What bench/search_speed.py and its children share: query classes, search modes, and small
measuring helpers (memory, timing, percentiles, sizes on disk, progress lines)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from common import say

CLASSES = ("rare", "common", "multi")
MODES = ("keyword", "semantic", "hybrid")
MIB = 2**20


def memory() -> dict[str, float]:
    """This process's resident memory now (MiB): total, anonymous, file-backed (mmap), peak."""
    wanted = {"VmRSS": "rss", "RssAnon": "anon", "RssFile": "file", "VmHWM": "peak"}
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in wanted:
            found[wanted[key]] = round(int(line.split()[1]) / 1024, 1)
    return found


def timed_ms(function, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return (time.perf_counter() - started) * 1000, value


def spread(times_ms: list[float]) -> dict[str, float]:
    p50, p95, p99 = np.percentile(times_ms, [50, 95, 99])
    return {
        "n": len(times_ms),
        "p50": round(float(p50), 3),
        "p95": round(float(p95), 3),
        "p99": round(float(p99), 3),
        "max": round(float(max(times_ms)), 3),
    }


def size_mib(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / MIB
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / MIB


def database_mib(database: Path) -> float:
    return sum(size_mib(p) for p in database.parent.glob(f"{database.name}*"))


def stage_recorder(stages: dict[str, dict], label: str):
    """stage(name, started, **extra): record a build step's seconds, extras and memory after
    it into `stages`, and say so under `label`."""

    def stage(name: str, started: float, **extra: object) -> None:
        stages[name] = {"seconds": round(time.perf_counter() - started, 3), **extra}
        stages[name]["memory_after"] = memory()
        say(f"{label}: {name} {stages[name]['seconds']:.1f} s")

    return stage
