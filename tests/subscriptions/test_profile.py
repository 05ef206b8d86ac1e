"""What a subscriber taught their picks, as the digest shows it: follows, mutes, and votes
seen, undone and reset (digest/profile.py). Digests go to a real SMTP server on loopback;
`preview` composes the same digest without recording it, so one subscriber can be shown the
same day before and after a change."""

from __future__ import annotations

import feedparser
import httpx
import pytest

from paperfeed.digest import profile, subscriptions
from paperfeed.digest.send import preview, send_edition
from paperfeed.errors import InvalidInput, NotFound
from paperfeed.storage import subscribers as store
from tests.subscriptions.conftest import DAY, SEND_AT, add_subscriber
from tests.subscriptions.test_send import received
from tests.support.live import LiveServer, cli_env


def sections(digest: dict) -> dict[str, list[tuple[str, str]]]:
    """section title → [(paper id, reason)]"""
    return {s["title"]: [(p["id"], p["reason"]) for p in s["papers"]] for s in digest["sections"]}


def ids(digest: dict) -> list[str]:
    return [pid for papers in sections(digest).values() for pid, _ in papers]


def test_follows_and_mutes_shape_every_section_and_the_digest_stays_full(
    day_of_papers, smtp_server, sender_for
):
    services = day_of_papers
    # Both trending papers are muted: 2603.00001 by an author, 2603.00002 by its archive.
    add_subscriber(
        services,
        "ada@example.org",
        keywords="attention",
        authors="grace HOPPER",
        exclude_authors="Edsger  Dijkstra",
        exclude_categories="q-bio",
        exclude="molecules",
        paper_count="4",
    )
    send_edition(services.engine, sender_for(), DAY)
    [message] = received(smtp_server)["ada@example.org"]
    text = message.get_body(("plain",)).get_content()
    assert "Sparse attention" not in text  # muted author, though it matches a keyword
    assert "Diffusion models for protein design" not in text  # muted category (q-bio.*)
    assert "Graph neural networks for molecules" not in text  # muted keyword
    # The followed author's paper is picked first and says why; the slots refill to four.
    picked = text.split("Picked for you", 1)[1]
    assert picked.index("Speech recognition with tiny models") < picked.index("Reinforcement")
    assert "New from Grace Hopper, whom you follow" in text
    with services.engine.connect() as conn:
        assert len(store.sent_paper_ids(conn, 1)) == 4


def test_a_followed_author_in_trending_is_marked_there(day_of_papers, smtp_server, sender_for):
    services = day_of_papers
    add_subscriber(services, "ada@example.org", authors="Edsger Dijkstra", paper_count="4")
    digest, _ = preview(services.engine, sender_for(), "ada@example.org", DAY)
    trending = dict(sections(digest)["Trending today"])
    assert trending["2603.00001"].endswith("New from Edsger Dijkstra, whom you follow")
    assert "Picked for you" in sections(digest)  # following makes the digest personal


def test_votes_are_listed_and_an_undone_or_reset_vote_stops_counting(day_of_papers, sender_for):
    services = day_of_papers
    subscriber = add_subscriber(services, "ada@example.org", paper_count="8")
    with services.engine.begin() as conn:
        store.vote(conn, subscriber["id"], "2603.00003", -1, SEND_AT)
        store.vote(conn, subscriber["id"], "2603.00004", 1, SEND_AT.replace(hour=8))
        store.vote(conn, subscriber["id"], "9999.99999", -1, SEND_AT.replace(hour=6))

    votes = profile.votes_of(services.engine, subscriber["id"])
    assert [(v["paper_id"], v["up"], v["title"]) for v in votes] == [
        ("2603.00004", True, "Graph neural networks for molecules"),
        ("2603.00003", False, "A survey of retrieval augmented generation"),
        ("9999.99999", False, ""),  # a paper since removed still shows, by id
    ]
    before, _ = preview(services.engine, sender_for(), "ada@example.org", DAY)
    assert "2603.00003" not in ids(before)  # a 👎 paper itself is never sent

    assert profile.undo_votes(services.engine, subscriber["id"], ["2603.00003"]) == 1
    assert profile.undo_votes(services.engine, subscriber["id"], ["2603.00003"]) == 0
    after, _ = preview(services.engine, sender_for(), "ada@example.org", DAY)
    assert "2603.00003" in ids(after)
    # Every paper of the day but the one already liked (a reader's own papers are not resent).
    assert sorted(ids(after)) == [f"2603.0000{n}" for n in (1, 2, 3, 5, 6, 7, 8)]

    assert profile.reset_votes(services.engine, subscriber["id"]) == 2
    assert profile.votes_of(services.engine, subscriber["id"]) == []


def test_lists_change_one_term_at_a_time_and_refuse_bad_ones(day_of_papers):
    services = day_of_papers
    subscriber = add_subscriber(services, "ada@example.org", authors="Ada Lovelace")
    change = profile.change_list
    topics = change(services.engine, subscriber["id"], "author", "Grace  Hopper")
    assert topics["authors"] == ["Ada Lovelace", "Grace Hopper"]
    topics = change(services.engine, subscriber["id"], "author", "grace hopper")  # same person
    assert topics["authors"] == ["Ada Lovelace", "Grace Hopper"]
    topics = change(services.engine, subscriber["id"], "author", "ADA LOVELACE", remove=True)
    assert topics["authors"] == ["Grace Hopper"]
    topics = change(services.engine, subscriber["id"], "muted category", "math")
    assert topics["exclude_categories"] == ["math"]
    with pytest.raises(InvalidInput, match="is not a category"):
        change(services.engine, subscriber["id"], "muted category", "not a category!")
    with pytest.raises(InvalidInput, match="a topic has at most"):
        change(services.engine, subscriber["id"], "muted keyword", "x" * 101)
    with pytest.raises(InvalidInput, match="kind must be one of"):
        change(services.engine, subscriber["id"], "colour", "red")
    with pytest.raises(NotFound):
        profile.find(services.engine, "nobody@example.org")
    with services.engine.connect() as conn:
        assert store.get(conn, subscriber["id"])["topics"]["authors"] == ["Grace Hopper"]


def test_the_digest_feed_lists_what_was_sent_and_honours_todays_mutes(
    day_of_papers, smtp_server, sender_for, tmp_path
):
    services = day_of_papers
    ada = add_subscriber(services, "ada@example.org", keywords="speech", paper_count="5")
    send_edition(services.engine, sender_for(), DAY)
    with services.engine.connect() as conn:
        sent = store.sent_paper_ids(conn, ada["id"])
    feed_token = subscriptions.feed_token(services.engine, ada)
    manage_token = subscriptions.manage_token(services.engine, ada)
    server = LiveServer(cli_env(tmp_path, services.settings.database_url)).wait_ready()
    try:
        answer = httpx.get(f"{server.url}/digest/feed/{feed_token}", timeout=30)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/atom+xml")
        assert answer.headers["cache-control"].startswith("private")
        feed = feedparser.parse(answer.content)
        assert not feed.bozo and feed.feed.title == "paperfeed digest for ada@example.org"
        shown = {entry.link.rsplit("/papers/", 1)[1] for entry in feed.entries}
        assert shown == sent and len(shown) == 5
        assert all(f"Why it is here: In your digest of {DAY}" in e.summary for e in feed.entries)

        # Muting Grace Hopper later takes her paper out of the feed too.
        assert "2603.00005" in shown
        profile.change_list(services.engine, ada["id"], "muted author", "Grace Hopper")
        again = feedparser.parse(httpx.get(f"{server.url}/digest/feed/{feed_token}").content)
        assert {e.link.rsplit("/papers/", 1)[1] for e in again.entries} == sent - {"2603.00005"}

        # A feed link cannot manage the subscription, nor a manage link read the feed.
        assert httpx.get(f"{server.url}/subscription/{feed_token}").status_code == 400
        assert httpx.get(f"{server.url}/digest/feed/{manage_token}").status_code == 400
        assert httpx.get(f"{server.url}/digest/feed/{feed_token}x").status_code == 400
        page = httpx.get(f"{server.url}/subscription/{manage_token}").text
        assert f"/digest/feed/{feed_token}" in page
    finally:
        server.stop()
