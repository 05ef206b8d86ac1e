"""Sources for tests: hand `ingest()` batches the test built, as a real source would."""

from __future__ import annotations


class OneBatch:
    """A source that yields one given batch, as arXiv's OAI-PMH feed would."""

    name = "arxiv-oai"

    def __init__(self, batch):
        self._batch = batch

    def checkpoint_key(self):
        return None

    def batches(self, checkpoint):
        yield self._batch
