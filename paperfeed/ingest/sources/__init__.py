"""Sources fetch and parse papers from one upstream each; they never write to the database.

A source is any object with the `Source` shape: it yields `Batch`es, each carrying the
checkpoint that `ingest.run` saves once the batch is stored, and resumes from the checkpoint
it is handed. One unreadable record becomes a RecordFailure in its batch, never an exception;
an exception means the whole source is unusable (SourceUnavailable, InvalidInput).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from paperfeed.models import Batch


class Source(Protocol):
    #: Short name stored with every paper and signal it produced, e.g. "arxiv-oai".
    name: str

    def checkpoint_key(self) -> str | None:
        """The key its progress is saved under (e.g. "arxiv-oai:cs:arXiv"), or None."""
        ...

    def batches(self, checkpoint: dict | None) -> Iterator[Batch]:
        """Yield batches from where `checkpoint` left off (None: from the start)."""
        ...
