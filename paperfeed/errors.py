"""The small tree of paperfeed errors.

Every message is safe to show a user as it is. Domain code raises these and knows nothing of
HTTP or exit codes; the CLI and the web map them once each.
"""

from __future__ import annotations

import math


class PaperfeedError(Exception):
    """Base of every error paperfeed raises on purpose."""


class NotFound(PaperfeedError):
    """A paper, run or other object that was asked for does not exist."""


class InvalidInput(PaperfeedError):
    """A user's argument, query or file is unusable as given."""


class TooLarge(InvalidInput):
    """A request or upload is bigger than the limit for it."""


class NotSignedIn(PaperfeedError):
    """The action needs a signed-in person and there is none."""


class Forbidden(PaperfeedError):
    """The request may not do this (a missing or wrong CSRF token, another person's data)."""


class TooManyRequests(PaperfeedError):
    """A rate limit was reached; trying again later (after `retry_after` seconds) works."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @classmethod
    def waiting(cls, what: str, seconds: int) -> TooManyRequests:
        """'too many …; try again in 4 minutes', with the seconds for Retry-After."""
        minutes = math.ceil(seconds / 60)
        when = f"{seconds} seconds" if seconds < 60 else f"{minutes} minute{'s' * (minutes > 1)}"
        return cls(f"{what}; try again in {when}", seconds)


class BadRecord(PaperfeedError):
    """One record of a batch cannot be read; the batch skips it and goes on."""


class SourceUnavailable(PaperfeedError):
    """An upstream service failed, hung or answered with something that is not its format."""


class StorageError(PaperfeedError):
    """The database refused an operation or its schema is not the one this code expects."""


class ConfigError(PaperfeedError):
    """A setting has a value that cannot be used."""


class SearchError(PaperfeedError):
    """A search index cannot be opened or written (disk, permissions, corruption)."""


class ModelUnavailable(PaperfeedError):
    """The embedding model cannot be loaded; search falls back to keywords."""


#: What parsing one record may raise on bad data. Sources catch these per record and report
#: the record as failed, so a value no parser anticipated (a year 0, a 30-digit number) still
#: costs one record, never the batch.
RECORD_ERRORS = (BadRecord, ValueError, TypeError, OverflowError)
