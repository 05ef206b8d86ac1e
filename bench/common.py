"""What several bench scripts share: paths, progress lines, a free port, package versions and
the recorded Hugging Face days. A sibling module, imported with bench/ on sys.path."""

from __future__ import annotations

import gzip
import importlib.metadata
import json
import socket
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
HF_DIR = SHARED_DATA / "B_hf_daily_papers"


def say(message: str) -> None:
    """A progress line on stderr, so stdout keeps only the results."""
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def package_versions(names: tuple[str, ...]) -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def recorded_days(count: int) -> list[list[int]]:
    """Final upvote counts of each entry of the last `count` recorded Hugging Face days."""
    newest = sorted(HF_DIR.glob("hf_daily_papers_api_*.jsonl.gz"))[-1]
    with gzip.open(newest, "rt") as lines:
        days = [json.loads(line) for line in lines][-count:]
    return [
        [int(e["paper"].get("upvotes") or 0) for e in day["response"] if isinstance(e, dict)]
        for day in days
    ]
