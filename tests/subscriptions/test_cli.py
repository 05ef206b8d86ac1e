"""The admin's commands, run as the real `paperfeed` program: subscribers add/list/remove,
digest preview and digest send (mail to the default file backend, <home>/mail)."""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime
from email import policy

import pytest
import sqlalchemy as sa

from paperfeed.storage import subscribers as store
from paperfeed.storage.tables import deliveries
from tests.subscriptions.conftest import DAY
from tests.support.live import cli_env, run_cli


@pytest.fixture
def admin(day_of_papers, tmp_path):
    env = cli_env(tmp_path, day_of_papers.settings.database_url)

    def run(*args: str):
        return run_cli(*args, env=env)

    run.engine = day_of_papers.engine
    run.mail_dir = tmp_path / "mail"
    return run


def listed(admin) -> list[dict]:
    done = admin("subscribers", "list", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_add_list_and_remove_subscribers(admin):
    added = admin(
        "subscribers", "add", "Ada@Example.org", "--topics", "cs.CL, retrieval, quant-ph",
        "--exclude", "survey", "--frequency", "weekly", "--send-hour", "6",
        "--time-zone", "Europe/Paris", "--confirmed",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "ada@example.org: confirmed"
    assert admin("subscribers", "add", "bob@example.org").returncode == 0
    rows = {row["email"]: row for row in listed(admin)}
    assert rows["ada@example.org"]["topics"] == {
        "categories": ["cs.CL", "quant-ph"],
        "keywords": ["retrieval"],
        "authors": [],
        "exclude": ["survey"],
        "exclude_authors": [],
        "exclude_categories": [],
        "library": False,
    }
    assert (rows["ada@example.org"]["frequency"], rows["ada@example.org"]["send_hour"]) == (
        "weekly",
        6,
    )
    assert rows["bob@example.org"]["status"] == "pending"  # no --confirmed: no mail either
    assert not admin.mail_dir.exists() or not list(admin.mail_dir.glob("*.eml"))
    pending = admin("subscribers", "list", "--status", "pending").stdout
    assert "bob@example.org" in pending and "ada@example.org" not in pending

    assert admin("subscribers", "remove", "bob@example.org").returncode == 0
    assert [row["email"] for row in listed(admin)] == ["ada@example.org"]


def test_bad_subscriber_input_is_refused_with_a_reason(admin):
    for args, reason in [
        (("not-an-address",), "address"),
        (("ada@example.org", "--time-zone", "Mars/Olympus"), "time zone"),
        (("ada@example.org", "--categories", "<script>"), "category"),
    ]:
        done = admin("subscribers", "add", *args)
        assert done.returncode != 0
        assert reason in (done.stderr + done.stdout).lower()
        assert "Traceback" not in done.stderr
    assert listed(admin) == []


def test_preview_writes_the_eml_and_records_nothing(admin, tmp_path):
    admin("subscribers", "add", "ada@example.org", "--topics", "diffusion", "--confirmed")
    out = tmp_path / "ada.eml"
    done = admin(
        "digest", "preview", "ada@example.org", "--date", DAY.isoformat(), "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stdout
    message = email.message_from_bytes(out.read_bytes(), policy=policy.default)
    assert message["To"] == "ada@example.org"
    assert "Mon 2 Mar 2026" in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    assert "Diffusion models for protein design" in text
    # The diffusion paper is trending: it says it matches, and no "nothing matched" line.
    assert "+25 upvotes on Hugging Face in 24 h · age 18 hours · Mentions “diffusion”" in " ".join(
        text.split()
    )
    assert "Nothing new matched" not in text
    with admin.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(deliveries)).scalar() == 0
    unknown = admin("digest", "preview", "eve@example.org", "--date", DAY.isoformat())
    assert unknown.returncode != 0
    assert "eve@example.org is not a subscriber" in unknown.stderr


def test_send_prints_a_json_summary_and_a_rerun_sends_nothing(admin):
    for address in ("ada@example.org", "bob@example.org"):
        admin("subscribers", "add", address, "--confirmed")
    admin("subscribers", "add", "pending@example.org")
    first = admin("digest", "send", "--date", DAY.isoformat(), "--json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert (summary["day"], summary["sent"], summary["failed"]) == (DAY.isoformat(), 2, 0)
    recipients = sorted(
        email.message_from_bytes(p.read_bytes(), policy=policy.default)["To"]
        for p in admin.mail_dir.glob("*.eml")
    )
    assert recipients == ["ada@example.org", "bob@example.org"]
    again = json.loads(admin("digest", "send", "--date", DAY.isoformat(), "--json").stdout)
    assert again["sent"] == 0
    assert len(list(admin.mail_dir.glob("*.eml"))) == 2
    with admin.engine.connect() as conn:
        ada = store.get_by_email(conn, "ada@example.org")
    assert ada["status"] == "confirmed"


def test_picks_shows_what_a_subscribers_next_digest_would_pick_and_why(admin):
    """`paperfeed picks EMAIL`: the digest's own picks, with reasons, and nothing sent."""
    added = admin(
        "subscribers", "add", "ada@example.org", "--topics", "cs.LG, speech", "--confirmed"
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    done = admin("picks", "ada@example.org", "--date", str(DAY), "--json")
    assert done.returncode == 0, done.stderr
    picks = json.loads(done.stdout)
    assert picks and all(p["id"] and p["title"] and p["why"] for p in picks)
    why = " ".join(p["why"] for p in picks)
    assert "speech" in why.lower() or "cs.LG" in why
    with admin.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(deliveries)).scalar() == 0
    unknown = admin("picks", "eve@example.org", "--date", str(DAY))
    assert unknown.returncode != 0 and "eve@example.org" in unknown.stderr + unknown.stdout


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_show_unvote_follow_and_mute_a_subscriber(admin):
    """What the preferences page does, from the terminal: votes seen and taken back,
    an author followed (and picked, said so), an archive muted. On SQLite only: the functions
    under these commands run on both databases in test_profile.py."""
    added = admin("subscribers", "add", "ada@example.org", "--keywords", "speech", "--confirmed")
    assert added.returncode == 0, added.stderr
    with admin.engine.begin() as conn:
        ada = store.get_by_email(conn, "ada@example.org")
        store.vote(conn, ada["id"], "2603.00003", -1, datetime(2026, 3, 3, 7, tzinfo=UTC))
        store.vote(conn, ada["id"], "2603.00004", 1, datetime(2026, 3, 3, 8, tzinfo=UTC))

    shown = admin("subscribers", "show", "ada@example.org")
    assert shown.returncode == 0, shown.stderr
    assert "👍 2603.00004  Graph neural networks for molecules" in shown.stdout
    assert "👎 2603.00003  A survey of retrieval augmented generation" in shown.stdout

    followed = admin("subscribers", "follow", "ada@example.org", "Grace Hopper")
    assert followed.stdout.strip() == "ada@example.org follows: Grace Hopper"
    muted = admin("subscribers", "mute", "ada@example.org", "quant-ph", "--as", "category")
    assert muted.stdout.strip() == "ada@example.org muted categories: quant-ph"
    refused = admin("subscribers", "mute", "ada@example.org", "no such!", "--as", "category")
    assert refused.returncode != 0 and "is not a category" in refused.stderr
    taken = admin("subscribers", "unvote", "ada@example.org", "2603.00003")
    assert taken.stdout.strip() == "ada@example.org: 1 vote taken back"

    data = json.loads(admin("subscribers", "show", "ada@example.org", "--json").stdout)
    assert [(v["paper_id"], v["vote"]) for v in data["votes"]] == [("2603.00004", "up")]
    topics = data["topics"]
    assert (topics["authors"], topics["exclude_categories"]) == (["Grace Hopper"], ["quant-ph"])

    picks = json.loads(admin("picks", "ada@example.org", "--date", str(DAY), "--json").stdout)
    assert picks[0]["id"] == "2603.00005"
    assert picks[0]["why"].startswith("New from Grace Hopper, whom you follow")
    assert "2603.00008" not in [p["id"] for p in picks]  # quant-ph, muted

    reset = admin("subscribers", "unvote", "ada@example.org", "--all")
    assert reset.stdout.strip() == "ada@example.org: 1 vote taken back"
    unknown = admin("subscribers", "show", "eve@example.org")
    assert unknown.returncode != 0 and "eve@example.org is not a subscriber" in unknown.stderr
