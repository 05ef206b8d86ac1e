"""Headers a live server sends for safety (issue 17 §12): HSTS only when the site is public over
https, and pages reached by a secret link never stored by a browser or a shared cache."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from paperfeed.digest import subscriptions
from tests.support.live import LiveServer, cli_env

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def serve(services, tmp_path, public_url: str) -> LiveServer:
    env = cli_env(tmp_path, services.settings.database_url) | {"PAPERFEED_PUBLIC_URL": public_url}
    return LiveServer(env).wait_ready()


@sqlite_only
def test_hsts_only_when_the_public_address_is_https(services, tmp_path):
    for public_url, expected in (
        ("https://papers.example.org", "max-age=31536000; includeSubDomains"),
        ("http://127.0.0.1:8000", None),
    ):
        server = serve(services, tmp_path, public_url)
        try:
            for path in ("/", "/search.json?q=x", "/healthz"):
                answer = httpx.get(server.url + path, timeout=30)
                assert answer.headers.get("strict-transport-security") == expected, path
        finally:
            server.stop()


@sqlite_only
def test_secret_link_pages_are_never_stored_and_public_pages_may_be(services, tmp_path):
    subscriber = subscriptions.add(
        services.engine,
        "ada@example.org",
        subscriptions.preferences_from({}),
        confirmed=True,
        now=datetime.now(UTC),
    )
    token = subscriptions.manage_token(services.engine, subscriber)
    server = serve(services, tmp_path, "http://127.0.0.1:8000")
    try:
        for path in (f"/subscription/{token}", f"/unsubscribe/{token}", "/sign-in/confirm?t=x"):
            answer = httpx.get(server.url + path, timeout=30)
            assert answer.headers["cache-control"] == "no-store", path
        for path in ("/", "/trending.atom"):
            answer = httpx.get(server.url + path, timeout=30)
            assert answer.headers.get("cache-control") != "no-store", path
    finally:
        server.stop()
