"""SMTP delivery: one connection kept open and reused, STARTTLS or TLS, AUTH, a send rate.

backends.backend_from_url builds an SmtpBackend from a `mail_url` such as
`smtp://user:password@host:587?tls=starttls&rate=5&timeout=30`. send() returns only after the
server's 250 for DATA; otherwise it raises a MailFailure whose class says what to do: retry
later, count a bounce, or stop until the setup is fixed (see failures.py). The only retry done
here is one reconnect when a reused connection turns out closed before anything was sent;
retrying failed messages belongs to the caller. Never logs or echoes the password.
"""

from __future__ import annotations

import copy
import ipaddress
import logging
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from paperfeed.errors import ConfigError, InvalidInput
from paperfeed.mail.failures import (
    Bounce,
    MailFailure,
    MailSetupFailure,
    PermanentMailFailure,
    TemporaryMailFailure,
)

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
URL_OPTIONS = ("tls", "rate", "timeout", "cafile", "return_path", "helo")


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    tls: str = "starttls"  # starttls | tls (implicit, "smtps") | none
    user: str = ""
    password: str = field(default="", repr=False)
    rate_per_s: float = 0.0  # most messages per second; 0 = no limit
    timeout_s: float = 30.0  # for each network step (connect, every command)
    cafile: str = ""  # trust only this CA bundle (PEM) instead of the system's
    return_path: str = ""  # envelope sender, where bounces go; "" = the From address
    helo: str = ""  # the name we greet with; "" = this machine's name


def parse_smtp_url(url: str) -> SmtpConfig:
    """`smtp://user:password@host:port?tls=starttls|tls|none&rate=N&timeout=S&cafile=PATH
    &return_path=ADDR&helo=NAME` (or `smtps://`, the same as tls=tls). ConfigError if unusable."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise ConfigError("mail_url: an SMTP URL starts with smtp:// or smtps://")
    options = _options(parts.query)
    tls = options.get("tls", "tls" if scheme == "smtps" else "starttls").lower()
    if tls not in DEFAULT_PORTS:
        raise ConfigError(f"mail_url: tls must be starttls, tls or none, not {tls!r}")
    if scheme == "smtps" and tls != "tls":
        raise ConfigError("mail_url: smtps:// always uses implicit TLS; drop the tls= option")
    host = parts.hostname
    if not host:
        raise ConfigError("mail_url: name the SMTP server, e.g. smtp://mail.example.org:587")
    try:
        port = parts.port or DEFAULT_PORTS[tls]
    except ValueError:
        raise ConfigError("mail_url: the port must be a number from 1 to 65535") from None
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    if password and not user:
        raise ConfigError("mail_url: a password needs a user name (smtp://user:password@host)")
    if not (user + password).isascii():  # smtplib's AUTH encodes them as ASCII
        raise ConfigError("mail_url: the SMTP user name and password must be ASCII")
    if user and tls == "none" and not is_loopback(host):
        raise ConfigError(
            f"mail_url: refusing to send the SMTP password unencrypted to {host}; "
            "use tls=starttls or tls=tls"
        )
    cafile = options.get("cafile", "")
    if cafile and not Path(cafile).is_file():
        raise ConfigError(f"mail_url: cafile {cafile!r} is not a readable file")
    return SmtpConfig(
        host=host,
        port=port,
        tls=tls,
        user=user,
        password=password,
        rate_per_s=_number(options, "rate", 0.0, minimum=0.0),
        timeout_s=_number(options, "timeout", 30.0, minimum=0.001),
        cafile=cafile,
        return_path=options.get("return_path", ""),
        helo=options.get("helo", ""),
    )


def _options(query: str) -> dict[str, str]:
    values = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(values) - set(URL_OPTIONS))
    if unknown:
        raise ConfigError(
            f"mail_url: unknown option(s) {', '.join(unknown)}; known: {', '.join(URL_OPTIONS)}"
        )
    repeated = sorted(name for name, given in values.items() if len(given) > 1)
    if repeated:
        raise ConfigError(f"mail_url: option(s) given twice: {', '.join(repeated)}")
    return {name: given[0] for name, given in values.items()}


def _number(options: dict[str, str], name: str, default: float, *, minimum: float) -> float:
    if name not in options:
        return default
    try:
        value = float(options[name])
    except ValueError:
        value = float("nan")
    if not value >= minimum or value == float("inf"):  # also refuses nan
        raise ConfigError(f"mail_url: {name} must be a number of at least {minimum:g}")
    return value


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Headers are folded only past RFC 5322's hard limit: folded at 78, a long unsubscribe URL
# becomes RFC 2047 encoded words, which List-Unsubscribe (RFC 2369) does not allow.
LONGEST_LINE = 998


def wire_bytes(message: EmailMessage) -> bytes:
    """The message exactly as SMTP sends it (CRLF line ends, no Bcc); DKIM signs these bytes."""
    if "Bcc" in message or "Resent-Bcc" in message:
        message = _without(message, "Bcc", "Resent-Bcc")
    return message.as_bytes(
        policy=message.policy.clone(linesep="\r\n", max_line_length=LONGEST_LINE)
    )


def _without(message: EmailMessage, *names: str) -> EmailMessage:
    trimmed = copy.copy(message)  # deleting a header rebinds the copy's header list only
    for name in names:
        del trimmed[name]
    return trimmed


def envelope_recipients(message: EmailMessage) -> list[str]:
    fields = [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
    addresses = [address for _, address in getaddresses(fields) if address]
    return list(dict.fromkeys(addresses))


def from_address(message: EmailMessage) -> str:
    found = [address for _, address in getaddresses([str(message.get("From", ""))]) if address]
    if not found:
        raise InvalidInput("the message has no From address")
    return found[0]


class _StaleConnection(Exception):
    """A reused connection was closed by the server before MAIL FROM was answered."""


class SmtpBackend:
    """Sends each message over one kept-open connection; safe to share between threads."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None
        self._lock = threading.Lock()
        self._next_send_at = 0.0
        self.where = f"SMTP server {config.host}:{config.port}"

    @classmethod
    def from_url(cls, url: str, *, return_path: str = "") -> SmtpBackend:
        """The URL's return_path= option wins over the `return_path` given here."""
        config = parse_smtp_url(url)
        if return_path and not config.return_path:
            config = replace(config, return_path=return_path)
        return cls(config)

    def send(self, message: EmailMessage) -> None:
        recipients = envelope_recipients(message)
        if not recipients:
            raise InvalidInput("the message has no recipients (To, Cc or Bcc)")
        sender = self.config.return_path or from_address(message)
        if not all(a.isascii() for a in [sender, *recipients]):
            raise PermanentMailFailure(f"{self.where}: paperfeed sends only to ASCII addresses")
        data = wire_bytes(message)
        with self._lock:
            self._wait_for_rate()
            self._deliver(sender, recipients, data)
        log.debug("sent message_id=%s recipients=%d", message.get("Message-ID"), len(recipients))

    def close(self) -> None:
        with self._lock:
            smtp, self._smtp = self._smtp, None
            if smtp is not None:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()

    def __enter__(self) -> SmtpBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait_for_rate(self) -> None:
        if self.config.rate_per_s <= 0:
            return
        now = time.monotonic()
        if self._next_send_at > now:
            time.sleep(self._next_send_at - now)
            now = self._next_send_at
        self._next_send_at = now + 1 / self.config.rate_per_s

    def _deliver(self, sender: str, recipients: list[str], data: bytes) -> None:
        for attempt in (1, 2):
            is_fresh = self._smtp is None
            smtp = self._smtp or self._open()
            try:
                self._transact(smtp, sender, recipients, data)
                return
            except _StaleConnection as exc:
                self._discard()
                if is_fresh or attempt == 2:
                    message = f"{self.where} closed the connection: {exc}"
                    raise TemporaryMailFailure(message) from exc
                log.info("reconnecting host=%s reason=%s", self.config.host, exc)

    def _transact(
        self, smtp: smtplib.SMTP, sender: str, recipients: list[str], data: bytes
    ) -> None:
        options = ["BODY=8BITMIME"] if not data.isascii() and smtp.has_extn("8bitmime") else []
        code, text = self._reply(smtp.mail, sender, options, is_first=True)
        if code != 250:
            self._fail_transaction(smtp, code, text, f"refused the sender {sender}")
        refused = []
        for recipient in recipients:
            code, text = self._reply(smtp.rcpt, recipient)
            if code == 421:
                self._fail_transaction(smtp, code, text, f"closed the connection at {recipient}")
            if code not in (250, 251):
                refused.append(Bounce.from_reply(recipient, code, text))
        if refused:
            self._reset(smtp)
            raise _refusal(self.where, refused)
        try:
            code, text = self._reply(smtp.data, data)
        except smtplib.SMTPDataError as exc:  # DATA itself refused, before any content went
            code, text = exc.smtp_code, _decode(exc.smtp_error)
        if code != 250:
            rejected = tuple(Bounce.from_reply(r, code, text) for r in recipients)
            self._fail_transaction(smtp, code, text, "refused the message", rejected)

    def _reply(self, command, *args, is_first: bool = False) -> tuple[int, str]:
        try:
            code, text = command(*args)
        except smtplib.SMTPServerDisconnected as exc:
            self._discard()
            timed_out = isinstance(exc.__context__, TimeoutError)
            if is_first and not timed_out:
                raise _StaleConnection(str(exc)) from exc
            what = f"did not answer in {self.config.timeout_s:g} s" if timed_out else str(exc)
            raise TemporaryMailFailure(f"{self.where} {what}") from exc
        if is_first and code == 421:  # e.g. an idle-timeout notice waiting on the socket
            self._discard()
            raise _StaleConnection(f"{code} {_decode(text)}")
        return code, _decode(text)

    def _fail_transaction(
        self,
        smtp: smtplib.SMTP,
        code: int,
        text: str,
        what: str,
        rejected: tuple[Bounce, ...] = (),
    ) -> None:
        if code == 421:
            self._discard()
        else:
            self._reset(smtp)
        message = f"{self.where} {what}: {code} {text}"
        if 400 <= code < 500:
            raise TemporaryMailFailure(message, code=code, text=text, rejected=rejected)
        if rejected:
            raise PermanentMailFailure(message, code=code, text=text, rejected=rejected)
        raise MailSetupFailure(message, code=code, text=text)

    def _open(self) -> smtplib.SMTP:
        config = self.config
        context = self._tls_context() if config.tls != "none" else None
        helo = config.helo or None
        smtp: smtplib.SMTP
        try:
            if config.tls == "tls":
                smtp = smtplib.SMTP_SSL(
                    config.host,
                    config.port,
                    local_hostname=helo,
                    timeout=config.timeout_s,
                    context=context,
                )
            else:
                smtp = smtplib.SMTP(
                    config.host, config.port, local_hostname=helo, timeout=config.timeout_s
                )
        except (smtplib.SMTPException, OSError) as exc:
            raise self._setup_failure(exc) from exc
        try:
            self._greet(smtp, context)
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise self._setup_failure(exc) from exc
        except MailFailure:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    def _greet(self, smtp: smtplib.SMTP, context: ssl.SSLContext | None) -> None:
        code, text = smtp.ehlo()
        if code != 250:
            raise smtplib.SMTPHeloError(code, text)
        if self.config.tls == "starttls":
            if not smtp.has_extn("starttls"):
                raise MailSetupFailure(
                    f"{self.where} does not offer STARTTLS; use tls=tls for implicit TLS"
                )
            smtp.starttls(context=context)
            smtp.ehlo()
        if self.config.user:
            if not smtp.has_extn("auth"):
                raise MailSetupFailure(f"{self.where} does not offer AUTH, yet mail_url has a user")
            smtp.login(self.config.user, self.config.password)

    def _tls_context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.config.cafile or None)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"mail_url: cannot load cafile {self.config.cafile!r}") from exc

    def _setup_failure(self, exc: Exception) -> MailFailure:
        where = self.where
        if isinstance(exc, ssl.SSLCertVerificationError):
            return MailSetupFailure(
                f"{where}: its TLS certificate is not trusted ({exc.verify_message}); "
                "name the CA that signed it with the cafile= option of mail_url"
            )
        if isinstance(exc, ssl.SSLError):
            return MailSetupFailure(f"{where}: TLS failed ({exc.reason or exc})")
        if isinstance(exc, smtplib.SMTPResponseException):
            code, text = exc.smtp_code, _decode(exc.smtp_error)
            if isinstance(exc, smtplib.SMTPAuthenticationError) and code >= 500:
                what = "refused the user name or password"
            else:
                what = "refused to talk"
            message = f"{where} {what}: {code} {text}"
            if 400 <= code < 500:
                return TemporaryMailFailure(message, code=code, text=text)
            return MailSetupFailure(message, code=code, text=text)
        if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
            return TemporaryMailFailure(f"{where} did not answer in {self.config.timeout_s:g} s")
        if isinstance(exc, smtplib.SMTPServerDisconnected) or not isinstance(
            exc, smtplib.SMTPException
        ):
            return TemporaryMailFailure(f"{where} could not be reached: {exc}")
        return MailSetupFailure(f"{where}: {exc}")  # e.g. no AUTH mechanism in common

    def _reset(self, smtp: smtplib.SMTP) -> None:
        """End a failed transaction but keep the connection, or drop it if even that fails."""
        try:
            code, _ = smtp.rset()
        except (smtplib.SMTPException, OSError):
            code = 0
        if code != 250:
            self._discard()

    def _discard(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()


def _refusal(where: str, refused: list[Bounce]) -> MailFailure:
    """Nothing is sent when any recipient is refused: one message, one outcome, and a retry
    cannot deliver twice to the recipients that were accepted."""
    first = next((b for b in refused if b.is_hard), refused[0])
    names = ", ".join(f"{b.recipient} ({b.code})" for b in refused)
    kind = PermanentMailFailure if first.is_hard else TemporaryMailFailure
    return kind(
        f"{where} refused recipient(s) {names}: {first.text}",
        code=first.code,
        text=first.text,
        rejected=tuple(refused),
    )


def _decode(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return " ".join(text.split())
