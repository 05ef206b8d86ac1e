"""Plain data that crosses modules: papers, versions, signals, ingest batches and reports.

No I/O here and nothing imported from the rest of paperfeed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class Version:
    """One arXiv version of a paper: `number` 1 for v1, with its submission time (UTC)."""

    number: int
    submitted_at: datetime | None = None


@dataclass(slots=True)
class Paper:
    """A paper as a source saw it; empty fields mean "this source does not know".

    `id` is the arXiv id without version when there is one, else a stable local id
    (see ingest.normalize.local_paper_id). `version` is the newest version the source knows.
    """

    id: str
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    version: int | None = None
    versions: list[Version] = field(default_factory=list)
    published_at: datetime | None = None
    updated_at: datetime | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    code_url: str | None = None
    project_url: str | None = None
    source: str = ""

    @property
    def arxiv_id(self) -> str | None:
        return None if self.id.startswith("local:") else self.id


@dataclass(slots=True)
class StoredPaper:
    """A paper as stored, with the bookkeeping that is not part of Paper itself."""

    paper: Paper
    sources: list[str]
    first_seen_at: datetime
    last_changed_at: datetime


@dataclass(slots=True, frozen=True)
class Signal:
    """One time-stamped engagement reading: `value` of `kind` for a paper, from a source.

    Readings are snapshots (e.g. the upvote count a source showed on a day), so trends come
    from differences between readings of the same (paper, source, kind).
    """

    paper_id: str
    source: str
    kind: str
    value: float
    observed_at: datetime


@dataclass(slots=True, frozen=True)
class RecordFailure:
    """A record a source could not turn into a Paper: where it was and why."""

    source: str
    position: str
    reason: str


@dataclass(slots=True)
class Batch:
    """What a source yields: papers, signals, failures, and the checkpoint to save once stored.

    `checkpoint` is None when the source has nothing to resume from (e.g. one local file).
    `progress_total` is the source's best guess of the whole job's size in records, if known.
    """

    papers: list[Paper] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    failures: list[RecordFailure] = field(default_factory=list)
    checkpoint: dict | None = None
    progress_total: int | None = None
    #: Records of the whole job done after this batch, when the source knows better than the
    #: run's own count (a resumed file also counts what the interrupted run read).
    progress_done: int | None = None
    note: str | None = None


@dataclass(slots=True)
class UpsertCounts:
    """How many papers a write added, changed, or found already as given."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(slots=True)
class IngestReport:
    """The outcome of one ingest run, as stored in ingest_runs and printed by the CLI."""

    run_id: int
    source: str
    status: str = "running"  # running | done | failed | interrupted
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    signals: int = 0
    failures: list[RecordFailure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def records(self) -> int:
        return self.new + self.updated + self.unchanged + self.failed

    def as_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "source": self.source,
            "status": self.status,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "signals": self.signals,
            "failures": [
                {"source": f.source, "position": f.position, "reason": f.reason}
                for f in self.failures
            ],
            "notes": self.notes,
            "error": self.error,
        }
