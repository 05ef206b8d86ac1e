"""A real SMTP server on loopback (aiosmtpd) that records every message and misbehaves on request.

    server = SmtpServer(tls="starttls", auth=("digest", "s3cret")).start()
    backend = backend_from_url(server.url)       # a mail_url that matches: user, TLS, CA file
    backend.send(message)
    server.messages[0].message["Subject"]         # parsed; .data is the raw bytes received
    server.connections                            # how many connections greeted it

It can refuse chosen recipients (`fail_recipient`), fail the next MAIL or DATA commands
(`fail_next_mail`, `fail_next_data`; a 421 also closes the connection, as real servers do),
require AUTH, offer STARTTLS or implicit TLS with a certificate made at test time, drop every
open connection (`drop_connections`, as after an idle timeout) or hang before answering DATA
(`hang_next_data`). The `smtp_server` fixture in tests/conftest.py starts a plain one.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import tempfile
import threading
from collections import deque
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote, urlencode

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.live import free_port

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # exactly as received after DATA (CRLF line ends)
    connection: int  # 1 for the first connection that greeted the server, 2 for the next…
    is_tls: bool
    login: str | None  # the user it authenticated as, if any

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)


@dataclass(frozen=True)
class Certificate:
    cert: Path  # PEM; also the CA file a client must trust
    key: Path


_certificate: Certificate | None = None
_certificate_lock = threading.Lock()


def test_certificate() -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, made once per test process."""
    global _certificate
    with _certificate_lock:
        if _certificate is None:
            _certificate = make_certificate(Path(tempfile.mkdtemp(prefix="paperfeed-smtp-")))
        return _certificate


test_certificate.__test__ = False  # a helper, not a test, whatever pytest thinks of the name


def make_certificate(folder: Path) -> Certificate:
    """With the `cryptography` package when installed, else with the openssl command."""
    folder.mkdir(parents=True, exist_ok=True)
    certificate = Certificate(folder / "cert.pem", folder / "key.pem")
    try:
        import cryptography  # noqa: F401
    except ImportError:
        _make_certificate_with_openssl(certificate)
    else:
        _make_certificate_with_cryptography(certificate)
    return certificate


def _make_certificate_with_openssl(certificate: Certificate) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("making a test certificate needs `cryptography` or the openssl command")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-days", "2", "-subj", "/CN=localhost"]
        + ["-addext", f"subjectAltName=IP:{HOST},DNS:localhost"]
        + ["-keyout", str(certificate.key), "-out", str(certificate.cert)],
        check=True,
        capture_output=True,
    )


def _make_certificate_with_cryptography(certificate: Certificate) -> None:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    san = [x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    certificate.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    certificate.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


class SmtpServer:
    def __init__(
        self,
        *,
        tls: str = "none",  # none | starttls | tls (implicit, from the first byte)
        auth: tuple[str, str] | None = None,  # (user, password) every client must log in with
        certificate: Certificate | None = None,
    ) -> None:
        if tls not in ("none", "starttls", "tls"):
            raise ValueError(f"tls must be none, starttls or tls, not {tls!r}")
        self.tls = tls
        self.auth = auth
        self.certificate = certificate or (test_certificate() if tls != "none" else None)
        self.host, self.port = HOST, free_port()
        self.messages: list[ReceivedMessage] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._recipient_replies: dict[str, str] = {}
        self._mail_replies: deque[str] = deque()
        self._data_replies: deque[str] = deque()
        self._data_hangs: deque[float] = deque()
        self._open: set = set()
        self._controller = self._make_controller()

    # --- what tests read -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """A mail_url for this server: its user and password, TLS mode and CA file."""
        userinfo = ""
        if self.auth:
            userinfo = f"{quote(self.auth[0], safe='')}:{quote(self.auth[1], safe='')}@"
        query = {"tls": self.tls}
        if self.certificate is not None:
            query["cafile"] = str(self.certificate.cert)
        return f"smtp://{userinfo}{self.host}:{self.port}?{urlencode(query, safe='/')}"

    @property
    def cafile(self) -> Path | None:
        return self.certificate.cert if self.certificate else None

    # --- how tests make it misbehave -----------------------------------------------------------

    def fail_recipient(self, address: str, code: int = 550, text: str | None = None) -> None:
        """Answer RCPT TO for this address with `code` (e.g. 550 or 452) from now on."""
        default = "5.1.1 mailbox unavailable" if code >= 500 else "4.2.2 mailbox busy, try later"
        with self._lock:
            self._recipient_replies[address.lower()] = f"{code} {text or default}"

    def fail_next_mail(self, count: int = 1, code: int = 451, text: str | None = None) -> None:
        """Answer the next `count` MAIL FROM commands with `code` (421 closes the connection)."""
        with self._lock:
            self._mail_replies.extend([f"{code} {text or _reason(code)}"] * count)

    def fail_next_data(self, count: int = 1, code: int = 451, text: str | None = None) -> None:
        """Answer the next `count` messages, after their content, with `code` instead of 250
        (421 closes the connection). Nothing is recorded for them."""
        with self._lock:
            self._data_replies.extend([f"{code} {text or _reason(code)}"] * count)

    def hang_next_data(self, seconds: float) -> None:
        """Say nothing for `seconds` after the next message's content, as a stuck server."""
        with self._lock:
            self._data_hangs.append(seconds)

    def drop_connections(self) -> None:
        """Close every open connection without a word, as a server does after an idle timeout."""
        with self._lock:
            protocols = list(self._open)

        async def close_all() -> None:
            for protocol in protocols:
                if protocol.transport is not None:
                    protocol.transport.close()
            await asyncio.sleep(0.01)  # let the FINs go out before the test's next command

        # Wait until done, so the client's next command meets a closed connection.
        asyncio.run_coroutine_threadsafe(close_all(), self._controller.loop).result(timeout=5)

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _make_controller(self) -> Controller:
        context = None
        if self.certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.certificate.cert, self.certificate.key)
        kwargs: dict = {"hostname": self.host, "port": self.port, "server_hostname": "localhost"}
        if self.tls == "tls":
            kwargs["ssl_context"] = context
        elif self.tls == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if self.auth:
            kwargs.update(
                authenticator=self._authenticate,
                auth_required=True,
                # aiosmtpd sees only STARTTLS as TLS; implicit TLS is encrypted from the start.
                auth_require_tls=self.tls == "starttls",
            )
        return Controller(_Handler(self), **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword) or self.auth is None:
            return AuthResult(success=False, handled=False)
        given = (auth_data.login.decode(), auth_data.password.decode())
        return AuthResult(success=given == self.auth, handled=False, auth_data=given[0])


def _reason(code: int) -> str:
    if code == 421:
        return "4.3.2 service shutting down, closing the connection"
    if code >= 500:
        return "5.7.1 message refused"
    return "4.3.0 temporary failure, try again later"


class _Handler:
    """aiosmtpd hooks: each runs on the server's event loop thread."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_EHLO(self, smtpd, session, envelope, hostname, responses):  # noqa: N802
        self._greeted(smtpd)
        session.host_name = hostname
        return responses

    async def handle_HELO(self, smtpd, session, envelope, hostname):  # noqa: N802
        self._greeted(smtpd)
        session.host_name = hostname
        return f"250 {smtpd.hostname}"

    def _greeted(self, smtpd) -> None:
        # One protocol object per TCP connection, kept across STARTTLS and a second EHLO.
        with self.server._lock:
            if not getattr(smtpd, "paperfeed_connection", None):
                self.server.connections += 1
                smtpd.paperfeed_connection = self.server.connections
            self.server._open.add(smtpd)

    async def handle_MAIL(self, smtpd, session, envelope, address, mail_options):  # noqa: N802
        with self.server._lock:
            reply = self.server._mail_replies.popleft() if self.server._mail_replies else None
        if reply is not None:
            return self._fail(smtpd, reply)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, smtpd, session, envelope, address, rcpt_options):  # noqa: N802
        with self.server._lock:
            reply = self.server._recipient_replies.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, smtpd, session, envelope):  # noqa: N802
        server = self.server
        with server._lock:
            hang = server._data_hangs.popleft() if server._data_hangs else None
            reply = server._data_replies.popleft() if server._data_replies else None
        if hang is not None:
            await asyncio.sleep(hang)
            return "451 4.4.2 too slow"
        if reply is not None:
            return self._fail(smtpd, reply)
        login = session.auth_data if isinstance(session.auth_data, str) else None
        received = ReceivedMessage(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            data=envelope.original_content,
            connection=getattr(smtpd, "paperfeed_connection", 0),
            is_tls=smtpd.transport.get_extra_info("ssl_object") is not None,
            login=login,
        )
        with server._lock:
            server.messages.append(received)
        return "250 2.0.0 OK queued"

    def _fail(self, smtpd, reply: str) -> str:
        if reply.startswith("421"):
            # The reply is written before this runs, and close() sends what is buffered.
            asyncio.get_running_loop().call_soon(smtpd.transport.close)
        return reply
