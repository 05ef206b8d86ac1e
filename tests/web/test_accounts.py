"""Signing in, upvoting, saving, collections, export and import, against a live server.

The mail goes through the file backend, and the test reads the sign-in link out of the .eml
as a person would out of their inbox. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime

import bibtexparser
import httpx
import pytest

from paperfeed.ingest.run import ingest
from paperfeed.models import Batch, Paper
from tests.support import mailbox
from tests.support.live import LiveServer, cli_env, csrf_of
from tests.support.sources import OneBatch

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
PAPERS = [
    Paper(
        id="2403.00001",
        title="Sparse attention for long documents",
        abstract="We make attention sparse in $O(n \\log n)$.",
        authors=["Ada Lovelace", "Alan Turing"],
        categories=["cs.CL"],
        primary_category="cs.CL",
        published_at=T0,
        abs_url="https://arxiv.org/abs/2403.00001",
        source="arxiv-oai",
    ),
    Paper(
        id="2403.00002",
        title="Diffusion models for proteins {unbalanced",
        abstract="Proteins, diffused.",
        authors=["Rosalind Franklin"],
        categories=["q-bio.BM"],
        published_at=datetime(2026, 3, 2, tzinfo=UTC),
        source="arxiv-oai",
    ),
]


@pytest.fixture
def site(services, tmp_path):
    ingest(OneBatch(Batch(papers=PAPERS, signals=[])), services.engine)
    server = LiveServer(cli_env(tmp_path, services.settings.database_url)).wait_ready()
    server.mail_dir = tmp_path / "mail"
    server.engine = services.engine
    yield server
    server.stop()


def mails(site) -> list[email.message.EmailMessage]:
    return mailbox.settled(site.engine, site.mail_dir)


def ask_for_link(client: httpx.Client, address: str) -> httpx.Response:
    token = csrf_of(client.get("/sign-in").text)
    return client.post("/sign-in", data={"email": address, "csrf_token": token, "next": "/library"})


def link_in(message) -> str:
    body = message.get_body(("plain",)).get_content()
    return re.search(r"(http://\S+/sign-in/confirm\?\S+)", body).group(1)


def sign_in(site, address: str) -> httpx.Client:
    client = httpx.Client(base_url=site.url, timeout=30)
    before = len(mails(site))
    assert ask_for_link(client, address).status_code == 200
    link = link_in(mails(site)[before])
    landing = client.get(link.replace(site.url, ""))
    token = re.search(r'name="token" value="([^"]+)"', landing.text).group(1)
    confirmed = client.post(
        "/sign-in/confirm",
        data={"token": token, "csrf_token": csrf_of(landing.text), "next": "/library"},
    )
    assert confirmed.status_code == 303, confirmed.text
    return client


def test_sign_in_by_mailed_link_is_single_use(site):
    client = httpx.Client(base_url=site.url, timeout=30)
    sent = ask_for_link(client, "Ada@Example.org")
    assert sent.status_code == 200
    assert "a sign-in link is on its way" in sent.text
    [message] = mails(site)
    assert message["To"] == "ada@example.org"
    assert message["Message-ID"] and message["Date"]
    link = link_in(message)
    assert link.startswith(site.url + "/sign-in/confirm?token=")

    # Opening the link (as a mail scanner would, twice) signs nobody in and keeps it usable.
    for _ in range(2):
        landing = client.get(link.replace(site.url, ""))
        assert landing.status_code == 200
        assert "Sign in to paperfeed" in landing.text
    assert "pf_session" not in client.cookies
    token = re.search(r'name="token" value="([^"]+)"', landing.text).group(1)
    form = {"token": token, "csrf_token": csrf_of(landing.text), "next": "/library"}
    confirmed = client.post("/sign-in/confirm", data=form)
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/library"
    cookie = confirmed.headers["set-cookie"]
    assert "pf_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    library = client.get("/library")
    assert library.status_code == 200
    assert "Signed in as ada@example.org" in library.text

    # The link works once: a second browser using it is turned away.
    other = httpx.Client(base_url=site.url, timeout=30)
    again = other.get(link.replace(site.url, ""))
    assert again.status_code == 400
    assert "already used" in again.text
    replay = other.post(
        "/sign-in/confirm", data=form | {"csrf_token": csrf_of(other.get("/sign-in").text)}
    )
    assert replay.status_code == 400
    bounced = other.get("/library")
    assert bounced.status_code == 303
    assert bounced.headers["location"] == "/sign-in?next=%2Flibrary"

    # Signing out ends the session on the server, not only in this browser.
    session = client.cookies["pf_session"]
    out = client.post("/sign-out", data={"csrf_token": csrf_of(library.text)})
    assert out.status_code == 303
    stolen = httpx.get(site.url + "/library.json", cookies={"pf_session": session}, timeout=30)
    assert stolen.status_code == 401
    assert stolen.json() == {"ok": False, "error": "sign in first", "status": 401}


def test_answer_is_the_same_for_new_and_known_addresses(site):
    sign_in(site, "known@example.org")
    fresh = httpx.Client(base_url=site.url, timeout=30)
    known = ask_for_link(fresh, "known@example.org").text.replace("known@", "X@")
    new = ask_for_link(fresh, "nobody@example.org").text.replace("nobody@", "X@")
    assert known == new


def test_bad_addresses_get_a_clear_message_and_no_mail(site):
    client = httpx.Client(base_url=site.url, timeout=30)
    for bad in (
        "",
        "not-an-address",
        "a@b",
        "x@example.org\r\nBcc: victim@example.org",
        "<script>@example.org",
        "a" * 300 + "@example.org",
    ):
        response = ask_for_link(client, bad)
        assert response.status_code == 400
        assert "email address" in response.text
        assert "<script>@" not in response.text
    assert mails(site) == []


def test_forms_without_the_csrf_token_or_from_another_site_are_refused(site):
    client = httpx.Client(base_url=site.url, timeout=30)
    token = csrf_of(client.get("/sign-in").text)
    missing = client.post("/sign-in", data={"email": "a@example.org"})
    assert missing.status_code == 403
    wrong = client.post("/sign-in", data={"email": "a@example.org", "csrf_token": "x" * 43})
    assert wrong.status_code == 403
    foreign = client.post(
        "/sign-in",
        data={"email": "a@example.org", "csrf_token": token},
        headers={"origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert mails(site) == []
    signed_in = sign_in(site, "ada@example.org")
    upvote = signed_in.post("/papers/2403.00001/upvote", data={"on": "1"})
    assert upvote.status_code == 403
    api = signed_in.post("/api/papers/2403.00001/upvote")
    assert api.status_code == 403
    assert api.json()["status"] == 403


def test_sign_in_mail_is_rate_limited_per_address_and_per_client(site):
    client = httpx.Client(base_url=site.url, timeout=30)
    answers = [ask_for_link(client, "flood@example.org") for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert len({a.text for a in answers}) == 1  # the limit does not show
    assert len(mails(site)) == 3  # at most 3 per address per 10 minutes
    statuses = [ask_for_link(client, f"user{i}@example.org").status_code for i in range(8)]
    # 10 requests per client per 10 minutes, counting the 5 above.
    assert statuses == [200] * 5 + [429] * 3
    assert len(mails(site)) == 3 + 5


def test_redirects_after_sign_in_stay_on_this_site(site):
    client = httpx.Client(base_url=site.url, timeout=30)
    token = csrf_of(client.get("/sign-in").text)
    client.post(
        "/sign-in", data={"email": "r@example.org", "csrf_token": token, "next": "//evil.example/x"}
    )
    link = link_in(mails(site)[-1])
    assert "evil" not in link
    landing = client.get(link.replace(site.url, ""))
    form = {
        "token": re.search(r'name="token" value="([^"]+)"', landing.text).group(1),
        "csrf_token": csrf_of(landing.text),
        "next": "https://evil.example/",
    }
    confirmed = client.post("/sign-in/confirm", data=form)
    assert confirmed.headers["location"] == "/library"


def test_upvote_and_save_count_for_trending_and_show_on_cards(site):
    client = sign_in(site, "ada@example.org")
    page = client.get("/papers/2403.00001")
    token = csrf_of(page.text)
    assert 'aria-pressed="false"' in page.text
    done = client.post(
        "/papers/2403.00001/upvote", data={"csrf_token": token, "on": "1", "next": "/?window=week"}
    )
    assert done.status_code == 303 and done.headers["location"] == "/?window=week"
    client.post("/papers/2403.00001/upvote", data={"csrf_token": token, "on": "1"})  # twice: once
    client.post("/papers/2403.00001/save", data={"csrf_token": token, "on": "1"})
    page = client.get("/papers/2403.00001")
    assert 'aria-pressed="true"' in page.text
    assert '<span class="count">1</span>' in page.text

    trending = client.get("/api/trending", params={"window": "week"}).json()
    [top] = [p for p in trending["papers"] if p["id"] == "2403.00001"]
    parts = {(part["kind"], part["gained"]) for part in top["trending"]["parts"]}
    assert ("upvotes", 1.0) in parts and ("saves", 1.0) in parts
    assert trending["papers"][0]["id"] == "2403.00001"

    # The API: POST does, DELETE undoes, with the CSRF token in a header.
    headers = {"x-csrf-token": token}
    state = client.delete("/api/papers/2403.00001/upvote", headers=headers).json()
    assert state == {"id": "2403.00001", "upvotes": 0, "saves": 1, "upvoted": False, "saved": True}
    state = client.post("/api/papers/2403.00001/upvote", headers=headers).json()
    assert state["upvotes"] == 1 and state["upvoted"]
    missing = client.post("/api/papers/2499.99999/upvote", headers=headers)
    assert missing.status_code == 404 and missing.json()["ok"] is False

    # Signed out: the form sends to sign-in and comes back; the API says 401.
    anonymous = httpx.Client(base_url=site.url, timeout=30)
    anon_token = csrf_of(anonymous.get("/papers/2403.00001").text)
    bounced = anonymous.post("/papers/2403.00001/upvote", data={"csrf_token": anon_token})
    assert bounced.status_code == 303
    assert bounced.headers["location"] == "/sign-in?next=%2Fpapers%2F2403.00001"
    assert anonymous.post("/api/papers/2403.00001/save").status_code == 401


def test_collections_export_and_import_round_trip(site):
    ada = sign_in(site, "ada@example.org")
    token = csrf_of(ada.get("/library").text)
    for paper_id in ("2403.00001", "2403.00002"):
        ada.post(f"/papers/{paper_id}/save", data={"csrf_token": token, "on": "1"})
    made = ada.post("/library/collections", data={"csrf_token": token, "name": "Reading <group>"})
    assert made.status_code == 303
    shelf = ada.get("/library.json").json()
    [collection] = shelf["collections"]
    filed = ada.post(
        "/library/file",
        data={"csrf_token": token, "collection": str(collection["id"]), "paper_id": "2403.00001"},
    )
    assert filed.status_code == 303
    page = ada.get(f"/library/collections/{collection['id']}")
    assert "Reading &lt;group&gt;" in page.text and "Sparse attention" in page.text
    assert "Diffusion models" not in page.text

    exported = ada.get("/library/export.json")
    assert "attachment" in exported.headers["content-disposition"]
    data = exported.json()
    assert data["format"] == "paperfeed-library"
    assert [p["id"] for p in data["saved"]] == ["2403.00002", "2403.00001"]
    assert data["collections"] == [{"name": "Reading <group>", "papers": ["2403.00001"]}]

    bib = ada.get("/library/export.bib").text
    entries = {e.fields_dict["eprint"].value: e for e in bibtexparser.parse_string(bib).entries}
    assert set(entries) == {"2403.00001", "2403.00002"}
    assert entries["2403.00001"].fields_dict["groups"].value == "Reading <group>"
    assert "unbalanced" in entries["2403.00002"].fields_dict["title"].value

    # Another person imports both files and gets the same library.
    bob = sign_in(site, "bob@example.org")
    bob_token = csrf_of(bob.get("/library").text)
    data["saved"].append({"id": "2499.99999"})
    imported = bob.post(
        "/library/import",
        data={"csrf_token": bob_token},
        files={"file": ("library.json", httpx.Response(200, json=data).content)},
    )
    assert imported.status_code == 200
    assert "Not on this instance (1): 2499.99999" in imported.text
    bob_shelf = bob.get("/library.json").json()
    assert sorted(p["id"] for p in bob_shelf["saved"]) == ["2403.00001", "2403.00002"]
    assert [(c["name"], c["papers"]) for c in bob_shelf["collections"]] == [
        ("Reading <group>", ["2403.00001"])
    ]

    carol = sign_in(site, "carol@example.org")
    carol_token = csrf_of(carol.get("/library").text)
    imported = carol.post(
        "/library/import",
        data={"csrf_token": carol_token},
        files={"file": ("library.bib", bib.encode() + b"\n@article{broken, title={x\n")},
    )
    assert imported.status_code == 200
    assert "Skipped (1)" in imported.text
    carol_shelf = carol.get("/library.json").json()
    assert sorted(p["id"] for p in carol_shelf["saved"]) == ["2403.00001", "2403.00002"]
    assert carol_shelf["collections"][0]["papers"] == ["2403.00001"]

    garbage = carol.post(
        "/library/import",
        data={"csrf_token": carol_token},
        files={"file": ("x.json", b'{"format": "something else"}')},
    )
    assert garbage.status_code == 400
    assert "not a paperfeed library export" in garbage.text
    assert carol.get("/library.json").json()["saved"] == carol_shelf["saved"]

    # One person's library is theirs: Bob cannot open or change Ada's collection.
    assert bob.get(f"/library/collections/{collection['id']}.json").status_code == 404
    deleted = bob.post(
        f"/library/collections/{collection['id']}/delete", data={"csrf_token": bob_token}
    )
    assert deleted.status_code == 404
    assert ada.get(f"/library/collections/{collection['id']}.json").status_code == 200
