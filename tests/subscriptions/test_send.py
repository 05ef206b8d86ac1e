"""Sending an edition to a real SMTP server on loopback: one digest each, never twice,
4xx retried with backoff, 5xx suppressing, unsubscribes honoured mid-run, personal picks."""

from __future__ import annotations

from datetime import timedelta

from paperfeed.digest.send import MAX_ATTEMPTS, send_edition
from paperfeed.errors import SourceUnavailable
from paperfeed.ingest.run import ingest
from paperfeed.models import Batch
from paperfeed.storage import deliveries as ledger
from paperfeed.storage import subscribers as store
from tests.subscriptions.conftest import DAY, NOON, SEND_AT, add_subscriber
from tests.support.sources import OneBatch


class FailingSource:
    """A source whose server keeps failing: the run ends "failed" with its reason."""

    name = "failing"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def checkpoint_key(self) -> None:
        return None

    def batches(self, checkpoint):
        raise SourceUnavailable(self.reason)
        yield  # a generator, as sources are


def received(smtp_server) -> dict[str, list]:
    by_address: dict[str, list] = {}
    for item in smtp_server.messages:
        for address in item.rcpt_tos:
            by_address.setdefault(address, []).append(item.message)
    return by_address


def test_one_digest_each_and_a_rerun_sends_nothing(day_of_papers, smtp_server, sender_for):
    services = day_of_papers
    for name in ("ada", "alan", "grace"):
        add_subscriber(services, f"{name}@example.org")
    pending = store.create  # noqa: F841 - a pending address must get nothing
    from paperfeed.digest import subscriptions

    subscriptions.add(
        services.engine,
        "pending@example.org",
        subscriptions.preferences_from({}),
        confirmed=False,
        now=SEND_AT,
    )
    summary = send_edition(services.engine, sender_for(), DAY)
    assert (summary.sent, summary.failed, summary.bounced) == (3, 0, 0)
    got = received(smtp_server)
    assert sorted(got) == ["ada@example.org", "alan@example.org", "grace@example.org"]
    message = got["ada@example.org"][0]
    assert message.get_content_type() == "multipart/alternative"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://papers.example.org/unsubscribe/" in message["List-Unsubscribe"]
    text = message.get_body(("plain",)).get_content()
    assert "Sparse attention for long documents" in text
    assert text.index("Sparse attention") < text.index("Diffusion models")  # trending order
    assert "+40 upvotes" in text

    again = send_edition(services.engine, sender_for(), DAY)
    assert again.sent == 0
    assert len(smtp_server.messages) == 3
    with services.engine.connect() as conn:
        assert ledger.counts(conn, DAY) == {"sent": 3}


def test_a_paper_is_sent_to_a_subscriber_at_most_once(day_of_papers, smtp_server, sender_for):
    services = day_of_papers
    add_subscriber(services, "ada@example.org", paper_count="3")
    send_edition(services.engine, sender_for(), DAY)
    first = received(smtp_server)["ada@example.org"][0]
    # The next day's edition is the same papers (nothing new): none of the three again.
    next_day = DAY + timedelta(days=1)
    send_edition(
        services.engine,
        sender_for(clock=lambda: SEND_AT + timedelta(days=1), skip_quiet_days=False),
        next_day,
    )
    with services.engine.connect() as conn:
        sent = [ledger.get(conn, d, 1)["papers"] for d in (DAY, next_day)]
    import json

    day_one, day_two = (set(json.loads(s)) for s in sent)
    assert len(day_one) == 3
    assert not day_one & day_two
    assert first is not None


def test_temporary_failures_are_retried_with_backoff_then_given_up(
    day_of_papers, smtp_server, sender_for
):
    services = day_of_papers
    add_subscriber(services, "ada@example.org")
    add_subscriber(services, "flaky@example.org")
    smtp_server.fail_recipient("flaky@example.org", 451)
    now = [SEND_AT]
    sender = sender_for(clock=lambda: now[0])
    summary = send_edition(services.engine, sender, DAY)
    assert (summary.sent, summary.retrying) == (1, 1)
    with services.engine.connect() as conn:
        row = ledger.get(conn, DAY, 2)
    assert row["status"] == "retry" and row["attempts"] == 1
    assert row["next_attempt_at"] == SEND_AT + timedelta(minutes=2)
    # Too early: nothing is tried.
    now[0] = SEND_AT + timedelta(minutes=1)
    assert send_edition(services.engine, sender, DAY).sent == 0
    # Each later attempt waits twice as long; the fifth failure gives up.
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        with services.engine.connect() as conn:
            row = ledger.get(conn, DAY, 2)
        waits.append(row["next_attempt_at"] - now[0])
        now[0] = row["next_attempt_at"]
        send_edition(services.engine, sender, DAY)
    with services.engine.connect() as conn:
        row = ledger.get(conn, DAY, 2)
    assert row["status"] == "failed" and row["attempts"] == MAX_ATTEMPTS
    assert "451" in row["note"]
    assert waits[1:] == [timedelta(minutes=4), timedelta(minutes=8), timedelta(minutes=16)]
    # A server that recovers: the next edition reaches the address.
    smtp_server.fail_recipient("flaky@example.org", 250)


def test_a_temporary_failure_that_clears_is_delivered_once(day_of_papers, smtp_server, sender_for):
    services = day_of_papers
    add_subscriber(services, "ada@example.org")
    smtp_server.fail_next_data(1, 451)
    now = [SEND_AT]
    sender = sender_for(clock=lambda: now[0])
    assert send_edition(services.engine, sender, DAY).retrying == 1
    now[0] += timedelta(minutes=3)
    assert send_edition(services.engine, sender, DAY).sent == 1
    assert len(received(smtp_server)["ada@example.org"]) == 1


def test_a_permanent_failure_is_a_bounce_that_suppresses(day_of_papers, smtp_server, sender_for):
    services = day_of_papers
    add_subscriber(services, "ada@example.org")
    add_subscriber(services, "gone@example.org")
    smtp_server.fail_recipient("gone@example.org", 550)
    summary = send_edition(services.engine, sender_for(), DAY)
    assert (summary.sent, summary.bounced) == (1, 1)
    with services.engine.connect() as conn:
        gone = store.get_by_email(conn, "gone@example.org")
    assert gone["suppressed_at"] is not None and "550" in gone["suppressed_reason"]
    # Suppressed: the next edition does not even try.
    smtp_server.fail_recipient("gone@example.org", 250)
    later = send_edition(
        services.engine,
        sender_for(clock=lambda: SEND_AT + timedelta(days=1), skip_quiet_days=False),
        DAY + timedelta(days=1),
    )
    assert "gone@example.org" not in received(smtp_server) and later.bounced == 0


def test_an_unsubscribe_during_a_run_is_honoured(day_of_papers, smtp_server, sender_for):
    services = day_of_papers
    for name in ("a1", "a2", "a3", "a4"):
        add_subscriber(services, f"{name}@example.org")
    sender = sender_for()
    real_backend = sender.backend

    class UnsubscribeAfterFirst:
        """The real SMTP backend; after the first message, a3 unsubscribes."""

        def send(self, message):
            real_backend.send(message)
            with services.engine.begin() as conn:
                found = store.get_by_email(conn, "a3@example.org")
                store.update(conn, found["id"], status="unsubscribed")

    sender.backend = UnsubscribeAfterFirst()
    summary = send_edition(services.engine, sender, DAY)
    assert (summary.sent, summary.skipped) == (3, 1)
    assert "a3@example.org" not in received(smtp_server)


def test_personal_picks_follow_topics_exclusions_and_votes(day_of_papers, smtp_server, sender_for):
    services = day_of_papers
    add_subscriber(
        services,
        "ada@example.org",
        categories="cs.LG",
        keywords="speech",
        exclude="survey",
        paper_count="6",
    )
    send_edition(services.engine, sender_for(), DAY)
    message = received(smtp_server)["ada@example.org"][0]
    text = message.get_body(("plain",)).get_content()
    assert "Picked for you" in text
    assert "New in cs.LG" in text and "Graph neural networks" in text
    assert "Mentions “speech”" in text and "Speech recognition" in text
    assert "retrieval augmented generation" not in text.lower()  # excluded: "survey"
    html = message.get_body(("html",)).get_content()
    assert "<script>alert(1)</script>" not in html and "&lt;b&gt;images" not in text


def test_quiet_days_send_nothing_and_say_why(day_of_papers, smtp_server, sender_for):
    services = day_of_papers
    add_subscriber(services, "ada@example.org")
    quiet = DAY - timedelta(days=1)
    # The source answered that day and had nothing new: a weekend or a holiday.
    ingest(OneBatch(Batch(papers=[])), services.engine, clock=lambda: NOON - timedelta(days=1))
    summary = send_edition(services.engine, sender_for(clock=lambda: SEND_AT), quiet)
    assert (summary.sent, summary.skipped) == (0, 1)
    with services.engine.connect() as conn:
        note = ledger.get(conn, quiet, 1)["note"]
    assert "announced no new papers" in note
    assert smtp_server.messages == []


def test_a_day_whose_fetch_failed_is_not_quiet_and_the_digest_says_so(
    day_of_papers, smtp_server, sender_for
):
    """A failed (or missing) fetch is not a holiday: the digest still goes, naming what is
    missing, and `status --check` raises it (test_worker.py)."""
    services = day_of_papers
    add_subscriber(services, "ada@example.org")
    day = DAY + timedelta(days=1)
    failing = FailingSource("arXiv answered 503 three times")
    ingest(failing, services.engine, clock=lambda: NOON + timedelta(days=1))
    summary = send_edition(
        services.engine, sender_for(clock=lambda: SEND_AT + timedelta(days=1)), day
    )
    assert (summary.sent, summary.skipped) == (1, 0)
    text = received(smtp_server)["ada@example.org"][0].get_body(("plain",)).get_content()
    assert "paperfeed fetched no new papers on Tue 3 Mar: the failing fetch failed" in text
    assert "arXiv answered 503 three times" in text
    assert "weekend or a holiday" not in text  # health lines never contradict each other
    assert "Trending today" in text  # what is known still goes out


def test_the_vote_links_in_a_digest_record_a_vote(day_of_papers, smtp_server, sender_for):
    import re

    from paperfeed.digest import subscriptions

    services = day_of_papers
    add_subscriber(services, "ada@example.org")
    send_edition(services.engine, sender_for(), DAY)
    text = received(smtp_server)["ada@example.org"][0].get_body(("plain",)).get_content()
    tokens = re.findall(r"https://papers\.example\.org/digest/vote/(\S+)", text)
    assert len(tokens) >= 2
    up, paper_id = subscriptions.check_vote_link(services.engine, tokens[1], SEND_AT)
    with services.engine.connect() as conn:
        assert store.votes(conn, 1) == {}  # landing on the link records nothing
    subscriptions.record_vote(services.engine, tokens[1], SEND_AT)
    with services.engine.connect() as conn:
        assert store.votes(conn, 1) == {paper_id: 1 if up else -1}
