"""SMTP delivery against a real SMTP server on loopback: one kept connection, reconnects,
STARTTLS, implicit TLS, AUTH, what each kind of failure raises, timeouts and the send rate."""

from __future__ import annotations

import time
from email.message import EmailMessage

import pytest

from paperfeed.errors import ConfigError
from paperfeed.mail.backends import backend_from_url
from paperfeed.mail.failures import (
    MailSetupFailure,
    PermanentMailFailure,
    TemporaryMailFailure,
)
from paperfeed.mail.message import finish_headers
from paperfeed.mail.smtp import parse_smtp_url
from tests.support.live import free_port
from tests.support.smtp import SmtpServer


def digest(to: str = "ada@example.org", subject: str = "Your paperfeed digest") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "paperfeed <digest@papers.example.org>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Today's papers:\n\n1. Attention Is All You Need\n")
    return finish_headers(message, "papers.example.org")


def test_many_messages_go_over_one_connection(smtp_server):
    with backend_from_url(smtp_server.url) as backend:
        for number in range(25):
            backend.send(digest(f"reader{number}@example.org", f"digest {number}"))
    assert smtp_server.connections == 1
    assert [m.rcpt_tos for m in smtp_server.messages] == [
        [f"reader{n}@example.org"] for n in range(25)
    ]
    assert {m.connection for m in smtp_server.messages} == {1}


def test_headers_and_mime_structure_arrive_as_sent(smtp_server):
    message = digest(subject="Papers on Schrödinger bridges — 3 March")
    message["List-Unsubscribe"] = "<https://papers.example.org/unsubscribe?token=abc>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Bcc"] = "archive@papers.example.org"
    message.add_alternative("<p>Today’s papers: <b>1</b></p>", subtype="html")
    with backend_from_url(smtp_server.url) as backend:
        backend.send(message)
    [received] = smtp_server.messages
    assert received.mail_from == "digest@papers.example.org"  # no return path: the From address
    assert received.rcpt_tos == ["ada@example.org", "archive@papers.example.org"]
    got = received.message
    assert "Bcc" not in got and b"archive@" not in received.data
    assert got["Subject"] == "Papers on Schrödinger bridges — 3 March"
    assert got["Message-ID"] == message["Message-ID"] and got["Date"] == message["Date"]
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in got.iter_parts()] == ["text/plain", "text/html"]
    assert got.get_body(("html",)).get_content().strip() == "<p>Today’s papers: <b>1</b></p>"


def test_the_envelope_sender_is_the_return_path_and_the_url_option_wins(smtp_server):
    with backend_from_url(smtp_server.url, return_path="bounces@papers.example.org") as backend:
        backend.send(digest())
    url = smtp_server.url + "&return_path=bounces%2Burl@papers.example.org"
    with backend_from_url(url, return_path="bounces@papers.example.org") as backend:
        backend.send(digest())
    assert [m.mail_from for m in smtp_server.messages] == [
        "bounces@papers.example.org",
        "bounces+url@papers.example.org",
    ]


def test_a_connection_the_server_dropped_is_reopened_without_losing_the_message(smtp_server):
    with backend_from_url(smtp_server.url) as backend:
        backend.send(digest(subject="one"))
        smtp_server.drop_connections()
        backend.send(digest(subject="two"))
        backend.send(digest(subject="three"))
    assert [m.message["Subject"] for m in smtp_server.messages] == ["one", "two", "three"]
    assert [m.connection for m in smtp_server.messages] == [1, 2, 2]


def test_a_421_on_a_kept_connection_reconnects_and_sends(smtp_server):
    with backend_from_url(smtp_server.url) as backend:
        backend.send(digest(subject="one"))
        smtp_server.fail_next_mail(code=421)  # as a server closing an idle connection says
        backend.send(digest(subject="two"))
    assert [m.connection for m in smtp_server.messages] == [1, 2]


def test_a_4xx_for_the_message_is_a_temporary_failure_and_the_connection_is_kept(smtp_server):
    smtp_server.fail_next_data(code=451)
    with backend_from_url(smtp_server.url) as backend:
        with pytest.raises(TemporaryMailFailure) as failure:
            backend.send(digest(subject="one"))
        backend.send(digest(subject="one, again"))
    assert failure.value.code == 451 and "451" in str(failure.value)
    assert [m.message["Subject"] for m in smtp_server.messages] == ["one, again"]
    assert smtp_server.connections == 1


def test_a_421_for_the_message_is_temporary_and_the_next_send_reconnects(smtp_server):
    smtp_server.fail_next_data(code=421)
    with backend_from_url(smtp_server.url) as backend:
        with pytest.raises(TemporaryMailFailure) as failure:
            backend.send(digest())
        backend.send(digest())
    assert failure.value.code == 421
    assert [m.connection for m in smtp_server.messages] == [2]


def test_a_5xx_for_the_message_is_a_permanent_failure_naming_each_recipient(smtp_server):
    smtp_server.fail_next_data(code=554, text="5.7.1 message content rejected")
    with backend_from_url(smtp_server.url) as backend, pytest.raises(PermanentMailFailure) as f:
        backend.send(digest("ada@example.org, alan@example.org"))
    assert f.value.code == 554 and f.value.text == "5.7.1 message content rejected"
    assert [(b.recipient, b.code, b.status, b.is_hard) for b in f.value.rejected] == [
        ("ada@example.org", 554, "5.7.1", True),
        ("alan@example.org", 554, "5.7.1", True),
    ]
    assert smtp_server.messages == []


def test_refused_recipients_are_classified_by_code_and_get_nothing(smtp_server):
    smtp_server.fail_recipient("gone@example.org", 550)
    smtp_server.fail_recipient("full@example.org", 452)
    with backend_from_url(smtp_server.url) as backend:
        with pytest.raises(PermanentMailFailure) as hard:
            backend.send(digest("gone@example.org"))
        with pytest.raises(TemporaryMailFailure) as soft:
            backend.send(digest("full@example.org"))
        with pytest.raises(PermanentMailFailure) as mixed:
            backend.send(digest("ada@example.org, gone@example.org"))
        backend.send(digest("ada@example.org"))
    [bounce] = hard.value.rejected
    assert (bounce.recipient, bounce.code, bounce.status, bounce.is_hard) == (
        "gone@example.org",
        550,
        "5.1.1",
        True,
    )
    assert [(b.code, b.is_hard) for b in soft.value.rejected] == [(452, False)]
    assert [b.recipient for b in mixed.value.rejected] == ["gone@example.org"]
    # All or nothing: the accepted recipient of the refused message got nothing either.
    assert [m.rcpt_tos for m in smtp_server.messages] == [["ada@example.org"]]
    assert smtp_server.connections == 1


def test_a_refused_sender_is_a_setup_failure_not_a_bounce(smtp_server):
    smtp_server.fail_next_mail(code=553, text="5.7.1 sender address not allowed")
    with backend_from_url(smtp_server.url) as backend, pytest.raises(MailSetupFailure) as f:
        backend.send(digest())
    assert f.value.code == 553 and not isinstance(f.value, PermanentMailFailure)
    assert isinstance(f.value, ConfigError)


def test_starttls_and_auth_send_over_an_encrypted_logged_in_connection():
    with SmtpServer(tls="starttls", auth=("digest", "p@ss:w0rd/%")) as server:
        assert parse_smtp_url(server.url).port == server.port
        with backend_from_url(server.url) as backend:
            backend.send(digest(subject="one"))
            backend.send(digest(subject="two"))
        assert [(m.is_tls, m.login, m.connection) for m in server.messages] == [
            (True, "digest", 1),
            (True, "digest", 1),
        ]


def test_a_wrong_password_is_a_setup_failure():
    with SmtpServer(tls="starttls", auth=("digest", "right")) as server:
        url = server.url.replace(":right@", ":wrong@")
        with backend_from_url(url) as backend, pytest.raises(MailSetupFailure) as failure:
            backend.send(digest())
        assert failure.value.code == 535 and "wrong" not in str(failure.value)
        assert server.messages == []


def test_a_certificate_signed_by_no_trusted_ca_is_refused_by_default():
    with SmtpServer(tls="starttls") as server:
        url = server.url.split("&cafile=")[0]
        with backend_from_url(url) as backend, pytest.raises(MailSetupFailure, match="cafile="):
            backend.send(digest())
        assert server.messages == []


def test_implicit_tls_with_an_smtps_url():
    with SmtpServer(tls="tls", auth=("digest", "s3cret")) as server:
        url = f"smtps://digest:s3cret@{server.host}:{server.port}?cafile={server.cafile}"
        with backend_from_url(url) as backend:
            backend.send(digest())
        assert [(m.is_tls, m.login) for m in server.messages] == [(True, "digest")]


def test_a_password_is_never_sent_unencrypted_except_over_loopback():
    with pytest.raises(ConfigError, match="unencrypted to mail.example.org") as refused:
        backend_from_url("smtp://digest:s3cret@mail.example.org:25?tls=none")
    assert "s3cret" not in str(refused.value)
    with SmtpServer(tls="none", auth=("digest", "s3cret")) as server:
        with backend_from_url(server.url) as backend:
            backend.send(digest())
        assert [m.login for m in server.messages] == ["digest"]


def test_a_hanging_server_times_out_as_a_temporary_failure(smtp_server):
    smtp_server.hang_next_data(10)
    started = time.monotonic()
    with backend_from_url(smtp_server.url + "&timeout=0.3") as backend:
        with pytest.raises(TemporaryMailFailure, match="did not answer in 0.3 s"):
            backend.send(digest())
        assert time.monotonic() - started < 2
        backend.send(digest(subject="after"))  # a new connection; the stuck one is gone
    assert [m.connection for m in smtp_server.messages] == [2]


def test_an_unreachable_server_is_a_temporary_failure():
    backend = backend_from_url(f"smtp://127.0.0.1:{free_port()}?tls=none&timeout=2")
    with pytest.raises(TemporaryMailFailure, match="could not be reached"):
        backend.send(digest())


def test_the_rate_spaces_messages_out(smtp_server):
    started = time.monotonic()
    with backend_from_url(smtp_server.url + "&rate=20") as backend:
        for _ in range(6):
            backend.send(digest())
    assert time.monotonic() - started >= 5 / 20
    assert len(smtp_server.messages) == 6


def test_url_defaults_and_percent_decoded_credentials():
    config = parse_smtp_url("smtp://me%40example.org:p%3As%2Fs@mail.example.org")
    assert (config.user, config.password) == ("me@example.org", "p:s/s")
    assert (config.tls, config.port, config.rate_per_s, config.timeout_s) == (
        "starttls",
        587,
        0.0,
        30.0,
    )
    assert "p:s/s" not in repr(config)
    assert parse_smtp_url("smtps://mail.example.org").port == 465
    assert parse_smtp_url("smtp://mail.example.org?tls=tls").port == 465
    assert parse_smtp_url("smtp://localhost?tls=none&rate=2.5").port == 25


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("smtp://mail.example.org?tls=maybe", "tls must be starttls, tls or none"),
        ("smtps://mail.example.org?tls=starttls", "smtps:// always uses implicit TLS"),
        ("smtp://mail.example.org?rate=-1", "rate must be a number of at least 0"),
        ("smtp://mail.example.org?timeout=0", "timeout must be a number"),
        ("smtp://mail.example.org?timeout=nan", "timeout must be a number"),
        ("smtp://mail.example.org?retries=3", "unknown option(s) retries"),
        ("smtp://mail.example.org?tls=tls&tls=none", "given twice: tls"),
        ("smtp://mail.example.org?cafile=/nowhere/ca.pem", "is not a readable file"),
        ("smtp://mail.example.org:99999", "port must be a number"),
        ("smtp://:secret@mail.example.org", "a password needs a user name"),
        ("smtp://digest:s%C3%A9cret@mail.example.org", "must be ASCII"),
        ("smtp://?tls=none", "name the SMTP server"),
        ("smtpx://digest:secret@mail.example.org", "must start with smtp://"),
    ],
)
def test_unusable_urls_are_refused_with_the_reason(url, problem):
    with pytest.raises(ConfigError) as refused:
        backend_from_url(url)
    assert problem in str(refused.value)
    assert "secret" not in str(refused.value)
