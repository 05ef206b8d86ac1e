"""Shared fixtures: the shared real-data folder, a loopback replay server, settings and a db."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.replay import ReplayServer

REPO_ROOT = Path(__file__).resolve().parent.parent


def _shared_data_dir() -> Path:
    configured = os.environ.get("PAPERFEED_SHARED_DATA")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real recorded data set that sits beside the repository (../shared/data)."""
    path = _shared_data_dir()
    assert path.is_dir(), f"shared data folder missing: {path}"
    return path


@pytest.fixture(scope="session")
def test_data() -> Path:
    return REPO_ROOT / "tests" / "data"


@pytest.fixture
def replay_server():
    server = ReplayServer().start()
    yield server
    server.stop()


class RecordedSleeps(list):
    """A sleep function that records the waits asked for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def recorded_sleeps() -> RecordedSleeps:
    return RecordedSleeps()
