"""Fixtures for source tests: a polite client that never waits for real."""

from __future__ import annotations

import pytest

from paperfeed.ingest.http import PoliteClient


@pytest.fixture
def client(recorded_sleeps):
    """No pacing, short timeouts, one retry; waits are recorded in `recorded_sleeps`."""
    with PoliteClient(
        min_interval_s=0, timeout_s=2.0, max_retries=1, backoff_s=0.01, sleep=recorded_sleeps
    ) as polite:
        yield polite
