"""Sources fetch and parse papers from one upstream each; they never write to the database.

A source is any object with the `Source` shape: it yields `Batch`es, each carrying the
checkpoint that `ingest.run` saves once the batch is stored, and resumes from the checkpoint
it is handed. When a run finishes, its checkpoint is cleared (the next run starts afresh)
unless the source is `incremental`: then the next run continues from it, as a daily OAI
harvest continues from the last day harvested.

One unreadable record becomes a RecordFailure in its batch, never an exception; an exception
means the whole source is unusable (SourceUnavailable, InvalidInput).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from paperfeed.models import Batch


class Source(Protocol):
    #: Short name stored with every paper and signal it produced, e.g. "arxiv-oai".
    name: str
    #: Whether a finished run's checkpoint is where the next run starts (see above).
    incremental: bool

    def checkpoint_key(self) -> str | None:
        """The key its progress is saved under (e.g. "arxiv-oai:cs:arXiv"), or None."""
        ...

    def batches(self, checkpoint: dict | None) -> Iterator[Batch]:
        """Yield batches from where `checkpoint` left off (None: from the start)."""
        ...
