"""DKIM signing (RFC 6376) of outgoing mail, as a wrapper around any mail backend.

backends.backend_from_settings wraps the chosen backend in a SigningBackend when the settings
`dkim_domain`, `dkim_selector` and `dkim_key_file` are all set, so SMTP, file and console mail
carry the same signature and a saved .eml verifies. It signs the bytes SMTP sends
(smtp.wire_bytes) with relaxed/relaxed canonicalization, which also tolerates the file
backend's LF line ends. Keys are RSA in PEM (PKCS#1 or PKCS#8). Never touches DNS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import dkim
from dkim.crypto import UnparsableKeyError, parse_pem_private_key

from paperfeed.errors import ConfigError
from paperfeed.mail.failures import MailSetupFailure
from paperfeed.mail.message import MailBackend
from paperfeed.mail.smtp import wire_bytes

# Headers a relay may add or rewrite; signing them would break the signature on the way.
_UNSIGNED = {name.decode() for name in dkim.DKIM.SHOULD_NOT} | {"x-mailer"}


@dataclass(frozen=True)
class DkimSigner:
    domain: str  # d=, e.g. papers.example.org
    selector: str  # s=: the key is published at <selector>._domainkey.<domain>
    private_key: bytes = field(repr=False)  # PEM

    def sign(self, message: EmailMessage) -> EmailMessage:
        """Adds a DKIM-Signature header covering every header present and the body. A message
        signed before (a retry) loses its old signature first."""
        del message["DKIM-Signature"]
        names = dict.fromkeys(k.lower() for k in message.keys())
        signed = [name.encode() for name in names if name not in _UNSIGNED]
        try:
            header = dkim.sign(
                wire_bytes(message),
                self.selector.encode(),
                self.domain.encode(),
                self.private_key,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=signed,
            )
        except dkim.DKIMException as exc:
            raise MailSetupFailure(f"could not DKIM-sign {message.get('Message-ID')}") from exc
        name, _, value = header.decode("ascii").partition(":")
        _prepend_raw(message, name, value.strip())
        return message


def _prepend_raw(message: EmailMessage, name: str, value: str) -> None:
    """Put a header first, exactly as folded: a signature is prepended (RFC 6376 §5.6), and
    refolding it could change what was signed."""
    items = list(message.raw_items())
    for existing in dict.fromkeys(n for n, _ in items):
        del message[existing]
    message.set_raw(name, value)
    for existing, raw in items:
        message.set_raw(existing, raw)


def load_signer(domain: str, selector: str, key_file: str | Path) -> DkimSigner | None:
    """The signer the three settings describe, None when all are empty; ConfigError when only
    some are set or the key is unreadable."""
    given = {"dkim_domain": domain, "dkim_selector": selector, "dkim_key_file": str(key_file)}
    if not any(given.values()):
        return None
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise ConfigError(
            f"DKIM signing needs dkim_domain, dkim_selector and dkim_key_file; "
            f"{', '.join(missing)} is empty"
        )
    try:
        private_key = Path(key_file).expanduser().read_bytes().replace(b"\r\n", b"\n")
    except OSError as exc:
        raise ConfigError(f"dkim_key_file: cannot read {key_file} ({exc.strerror})") from exc
    try:
        parse_pem_private_key(private_key)
    except (UnparsableKeyError, ValueError, TypeError, IndexError) as exc:
        raise ConfigError(f"dkim_key_file: {key_file} is not an RSA private key in PEM") from exc
    return DkimSigner(domain.lower(), selector, private_key)


class SigningBackend:
    """Any backend, with each message DKIM-signed first."""

    def __init__(self, backend: MailBackend, signer: DkimSigner) -> None:
        self.backend = backend
        self.signer = signer

    def send(self, message: EmailMessage) -> None:
        self.backend.send(self.signer.sign(message))

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> SigningBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
