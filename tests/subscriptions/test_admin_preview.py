"""Admins preview any subscriber's digest in the browser; nobody else can, and nothing is sent."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from paperfeed.storage.tables import deliveries, sent_papers
from tests.subscriptions.conftest import DAY, add_subscriber
from tests.support.live import LiveServer, cli_env
from tests.web.test_accounts import sign_in


@pytest.fixture
def site(day_of_papers, tmp_path):
    env = cli_env(tmp_path, day_of_papers.settings.database_url)
    env["PAPERFEED_ADMIN_EMAILS"] = "Boss@Example.org, other-admin@example.org"
    server = LiveServer(env).wait_ready()
    server.mail_dir = tmp_path / "mail"
    server.engine = day_of_papers.engine
    add_subscriber(day_of_papers, "ada@example.org", keywords="diffusion")
    yield server
    server.stop()


def test_an_admin_sees_the_digest_a_subscriber_would_get(site):
    admin = sign_in(site, "boss@example.org")
    page = admin.get("/admin/digest", params={"email": "ada@example.org", "date": str(DAY)})
    assert page.status_code == 200
    assert "Trending papers for Mon 2 Mar 2026" in page.text
    assert "Diffusion models for protein design" in page.text
    # Hostile paper text stays text; the page may use inline styles and nothing else.
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    with site.engine.connect() as conn:
        for table in (deliveries, sent_papers):
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0


def test_nobody_else_sees_it_and_bad_requests_say_why(site):
    anonymous = httpx.Client(base_url=site.url, timeout=30)
    assert anonymous.get("/admin/digest", params={"email": "ada@example.org"}).status_code == 401
    reader = sign_in(site, "ada@example.org")
    refused = reader.get("/admin/digest", params={"email": "ada@example.org"})
    assert refused.status_code == 403
    assert "admins" in refused.text
    admin = sign_in(site, "boss@example.org")
    unknown = admin.get("/admin/digest", params={"email": "eve@example.org", "date": str(DAY)})
    assert unknown.status_code == 404
    assert "eve@example.org is not a subscriber" in unknown.text
    bad_day = admin.get("/admin/digest", params={"email": "ada@example.org", "date": "03/02"})
    assert bad_day.status_code == 400
    assert "YYYY-MM-DD" in bad_day.text
