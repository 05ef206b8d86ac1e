"""Bounce reports (RFC 3464): the failed recipients of real-looking Postfix reports, hard or
soft, and a clear InvalidInput, never a crash, for anything else."""

from __future__ import annotations

import random

import pytest

from paperfeed.errors import InvalidInput
from paperfeed.mail.bounces import DeliveryReport, read_delivery_report
from paperfeed.mail.failures import Bounce


@pytest.fixture
def mail_data(test_data):
    return test_data / "mail"


def test_a_postfix_bounce_names_each_failed_recipient_hard_or_soft(mail_data):
    report = read_delivery_report((mail_data / "postfix_bounce.eml").read_bytes())
    assert report.reporting_mta == "mail.papers.example.org"
    assert report.original_message_id == (
        "<177252000312.4242.1795834413026104137@papers.example.org>"
    )
    assert report.bounces == (
        Bounce(
            recipient="grace.hopper@example.net",
            status="5.1.1",
            code=550,
            text="550 5.1.1 <Grace.Hopper@example.net>: Recipient address rejected: "
            "User unknown in virtual mailbox table",
            is_hard=True,
        ),
        Bounce(
            recipient="alan@lab.example.com",
            status="4.4.1",
            code=None,
            text="delivery temporarily suspended: connect to "
            "mx.lab.example.com[198.51.100.7]:25: Connection timed out",
            is_hard=False,  # gave up after retrying a temporary failure: soft
        ),
    )


def test_a_delay_warning_is_a_soft_bounce(mail_data):
    report = read_delivery_report((mail_data / "postfix_delay.eml").read_bytes())
    [bounce] = report.bounces
    assert (bounce.recipient, bounce.status, bounce.code, bounce.is_hard) == (
        "ada@mathematics.example.edu",
        "4.2.2",
        452,
        False,
    )
    assert report.original_message_id.endswith("@papers.example.org>")


def test_delivered_recipients_are_left_out_and_a_missing_status_comes_from_the_diagnostic():
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\r\n"
        b'Content-Type: multipart/report; report-type="delivery-status"; boundary="b"\r\n'
        b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nreport\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns;mx.example.net\r\nOriginal-Envelope-Id: digest-2026-03-03-17\r\n\r\n"
        b"Final-Recipient: rfc822;kept@example.net\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\n"
        b"Final-Recipient: <Lost@Example.net>\r\nAction: failed\r\n"
        b"Diagnostic-Code: smtp; 554 5.7.1 Relay access denied\r\n"
        b"--b--\r\n"
    )
    report = read_delivery_report(raw)
    assert report.original_envelope_id == "digest-2026-03-03-17"
    assert [(b.recipient, b.status, b.code, b.is_hard) for b in report.bounces] == [
        ("lost@example.net", "5.7.1", 554, True)
    ]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("not_a_report.eml", "not multipart/report"),
        ("feedback_report.eml", "report-type=feedback-report"),
        ("report_without_recipients.eml", "names no recipient"),
    ],
)
def test_other_mail_is_refused_with_the_reason(mail_data, name, problem):
    with pytest.raises(InvalidInput, match=problem):
        read_delivery_report((mail_data / name).read_bytes())


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage \x80\x81",
        b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\nno boundary",
        b"Content-Type: multipart/report; report-type*=''%ff%fe; boundary=b\r\n\r\n--b--",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n\xff\xfe: \x00\r\n\r\n--b--",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n"
        b"\r\n!!!not base64!!!\r\n--b--",
        b"X" * (11 * 1024 * 1024),
    ],
)
def test_garbage_is_invalid_input(raw):
    with pytest.raises(InvalidInput):
        read_delivery_report(raw)


def test_damaged_reports_never_crash_the_reader(mail_data):
    originals = [(mail_data / n).read_bytes() for n in ("postfix_bounce.eml", "postfix_delay.eml")]
    rng = random.Random(3464)
    for _ in range(300):
        raw = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 20)):
            at = rng.randrange(len(raw))
            action = rng.random()
            if action < 0.4:
                raw[at] = rng.randrange(256)
            elif action < 0.7:
                del raw[at : at + rng.randint(1, 200)]
            else:
                raw[at:at] = rng.choice([b"\r\n\r\n", b";", b"--", b":", b"\x00", b"=?utf-8?q?"])
        try:
            assert isinstance(read_delivery_report(bytes(raw)), DeliveryReport)
        except InvalidInput:
            pass
