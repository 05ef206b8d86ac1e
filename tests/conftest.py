"""Shared fixtures: the shared real-data folder, a loopback replay server, settings and a db."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paperfeed.config import load_settings
from paperfeed.services import Services, build
from tests.support.replay import ReplayServer

REPO_ROOT = Path(__file__).resolve().parent.parent


def _shared_data_dir() -> Path:
    configured = os.environ.get("PAPERFEED_SHARED_DATA")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that reads ../shared/data, so `-m "not shared_data"` runs without it."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared_data)


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


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback that records every message; see tests/support/smtp.py
    for TLS, AUTH and scripted failures."""
    from tests.support.smtp import SmtpServer

    with SmtpServer() as server:
        yield server


class RecordedSleeps(list):
    """A sleep function that records the waits asked for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def recorded_sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, one per test module (never a downloaded one)."""
    from playwright.sync_api import sync_playwright

    from tests.support.browser import ARGS, CHROMIUM

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def postgres_server():
    from tests.support.postgres import PostgresForTests

    return PostgresForTests()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A fresh, empty database: every storage-level test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'paperfeed.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield url
    server.drop_database(url)


def _migrate(url: str) -> None:
    from paperfeed.storage.db import connect, migrate

    engine = connect(url)
    migrate(engine)
    engine.dispose()


@pytest.fixture
def program_database_url(database_url) -> str | None:
    """The database for a test's real `paperfeed` processes: None (the default SQLite file in
    their home) or a fresh PostgreSQL database, migrated as an admin would before first use."""
    if database_url.startswith("sqlite"):
        return None
    _migrate(database_url)
    return database_url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_database_url(request) -> str | None:
    """The same for a module that shares one live site among its tests."""
    if request.param == "sqlite":
        yield None
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    _migrate(url)
    yield url
    server.drop_database(url)


@pytest.fixture
def settings(tmp_path, database_url):
    return load_settings({"home": str(tmp_path / "home"), "database_url": database_url}, environ={})


@pytest.fixture
def services(settings) -> Services:
    """Services on a migrated database (PostgreSQL is migrated explicitly, as a user would)."""
    from paperfeed.storage.db import connect, migrate

    if not settings.is_sqlite:
        engine = connect(settings.database_url)
        migrate(engine)
        engine.dispose()
    built = build(settings)
    yield built
    built.close()


@pytest.fixture
def engine(services):
    return services.engine
