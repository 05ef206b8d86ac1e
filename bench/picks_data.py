"""The picks evaluation set: who submitted what in the Hugging Face daily-papers archive, and
the paperfeed instance built from that archive (bench/picks_quality.py uses both).

`read_archive` reads ../shared/data/B_hf_daily_papers/ once: each paper's archive days and, for
the even half only, each person's submissions. People whose name's SHA-1 hex digest starts with
an odd digit are held back to judge the result: they are dropped as each entry is read, before
anything is counted, so nothing here ever sees them.

`build_instance` loads every archive paper into a SQLite database under bench/.work/picks/ (one
with every paper's authors removed, one with them kept), with the day's upvotes as signals and
MiniLM vectors in the embeddings table, as `paperfeed ingest file` and `paperfeed index` would.
A rerun reuses both databases.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import json
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from paperfeed.errors import RECORD_ERRORS
from paperfeed.ingest.sources.hf_daily import parse_daily_entry
from paperfeed.models import Paper, StoredPaper
from paperfeed.search.embedder import DEFAULT_MODEL, Embedder, resolve_model_path
from paperfeed.search.indexing import embed_papers
from paperfeed.storage.db import connect, ensure_schema, writing
from paperfeed.storage.papers import insert_papers, update_papers
from paperfeed.storage.signals import insert_signals

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = ROOT.parent / "shared" / "data" / "B_hf_daily_papers"
WORK = ROOT / "bench" / ".work" / "picks"
EVEN = frozenset("02468ace")


def is_even_half(name: str) -> bool:
    return hashlib.sha1(name.encode()).hexdigest()[0] in EVEN


@dataclass
class Archive:
    papers: dict[str, Paper] = field(default_factory=dict)  # with authors, as archived
    upvotes: dict[str, tuple[float, datetime]] = field(default_factory=dict)  # first day listed
    days_of: dict[str, set[date]] = field(default_factory=lambda: defaultdict(set))
    # person (even half only) -> {paper id: first day they submitted it}
    submissions: dict[str, dict[str, date]] = field(default_factory=lambda: defaultdict(dict))

    def papers_by_week(self) -> dict[tuple[int, int], set[str]]:
        weeks: dict[tuple[int, int], set[str]] = defaultdict(set)
        for pid, days in self.days_of.items():
            for day in days:
                weeks[day.isocalendar()[:2]].add(pid)
        return weeks


def read_archive(folder: Path = ARCHIVE) -> Archive:
    archive = Archive()
    for path in sorted(folder.glob("hf_daily_papers_api_*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                day = date.fromisoformat(record["date"])
                observed = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)
                response = record["response"]
                entries = response.get("data", []) if isinstance(response, dict) else response
                for entry in entries:
                    _read_entry(archive, entry, day, observed)
    return archive


def _read_entry(archive: Archive, entry: object, day: date, observed: datetime) -> None:
    if isinstance(entry, str):
        try:
            entry = ast.literal_eval(entry.strip())
        except (ValueError, SyntaxError):
            try:
                entry = json.loads(entry)
            except ValueError:
                return
    try:
        paper, signals = parse_daily_entry(entry, observed)
    except RECORD_ERRORS:
        return
    archive.papers.setdefault(paper.id, paper)
    archive.days_of[paper.id].add(day)
    for signal in signals:
        if signal.kind == "upvotes" and paper.id not in archive.upvotes:
            archive.upvotes[paper.id] = (signal.value, observed)
    submitter = entry.get("submittedBy") if isinstance(entry, dict) else None
    name = submitter.get("name") if isinstance(submitter, dict) else None
    if isinstance(name, str) and name and is_even_half(name):
        archive.submissions[name].setdefault(paper.id, day)


def build_instance(archive: Archive, *, authors: bool, echo=print) -> str:
    """The SQLite URL of the instance (authors removed or kept), built on first use."""
    WORK.mkdir(parents=True, exist_ok=True)
    bare = WORK / "instance-no-authors.db"
    if not bare.exists():
        _build_bare(archive, bare, echo)
    if not authors:
        return f"sqlite:///{bare}"
    kept = WORK / "instance-authors.db"
    if not kept.exists():
        echo("copying the instance and putting the authors back")
        shutil.copy(bare, kept.with_suffix(".tmp"))
        engine = connect(f"sqlite:///{kept.with_suffix('.tmp')}")
        stored = [_stored(p, keep_authors=True) for p in archive.papers.values()]
        with writing(engine) as conn:
            update_papers(conn, stored)
        engine.dispose()
        kept.with_suffix(".tmp").rename(kept)
    return f"sqlite:///{kept}"


def _build_bare(archive: Archive, path: Path, echo) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    engine = connect(f"sqlite:///{tmp}")
    ensure_schema(engine, auto_migrate=True)
    stored = [_stored(p, keep_authors=False) for p in archive.papers.values()]
    from paperfeed.models import Signal

    readings = [
        Signal(pid, "hf", "upvotes", value, at) for pid, (value, at) in archive.upvotes.items()
    ]
    with writing(engine) as conn:
        for start in range(0, len(stored), 1000):
            insert_papers(conn, stored[start : start + 1000])
        insert_signals(conn, readings)
    echo(f"embedding {len(stored)} papers with {DEFAULT_MODEL} (once; cached in {path.name})")
    embedder = Embedder(DEFAULT_MODEL, resolve_model_path(DEFAULT_MODEL, WORK / "fast"))
    embed_papers(engine, embedder, clock=lambda: datetime.now(UTC))
    engine.dispose()
    tmp.rename(path)


def _stored(paper: Paper, *, keep_authors: bool) -> StoredPaper:
    copy = Paper(**{name: getattr(paper, name) for name in Paper.__slots__})
    if not keep_authors:
        copy.authors = []
    seen = paper.published_at or datetime(2024, 1, 1, tzinfo=UTC)
    return StoredPaper(paper=copy, sources=["hf-daily"], first_seen_at=seen, last_changed_at=seen)
