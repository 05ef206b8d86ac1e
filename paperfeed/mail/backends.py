"""Mail backends, chosen by the `mail_url` setting: `smtp://…` (smtp.py), `file:///folder`
(one .eml per message) or `console:` (printed). backend_from_settings adds DKIM signing.

Callers (sign-in, digests) only call send() and close(). A backend never retries: failures are
MailFailure subclasses (failures.py) and the caller decides; retries and bounces are its job.
"""

from __future__ import annotations

import os
import sys
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Self, TextIO
from urllib.parse import unquote, urlsplit

from paperfeed.errors import ConfigError
from paperfeed.mail.dkim import SigningBackend, load_signer
from paperfeed.mail.message import MailBackend
from paperfeed.mail.smtp import LONGEST_LINE, SmtpBackend

if TYPE_CHECKING:
    from paperfeed.config import Settings


class _LocalBackend:
    """Holds nothing open; close() and `with` are there so every backend is used alike."""

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FileBackend(_LocalBackend):
    """Writes each message as <folder>/<time>-<random>.eml, atomically (temp file + rename),
    so a reader of the folder never sees half a message."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid1().hex}.eml"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(
            message.as_bytes(policy=message.policy.clone(max_line_length=LONGEST_LINE))
        )
        os.replace(partial, self.folder / name)


class ConsoleBackend(_LocalBackend):
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, message: EmailMessage) -> None:
        stream = self.stream or sys.stderr
        stream.write(message.as_string() + "\n" + "-" * 72 + "\n")
        stream.flush()


def backend_from_url(url: str, *, return_path: str = "") -> MailBackend:
    """The backend a `mail_url` names; `return_path` is the SMTP envelope sender (bounces go
    there) unless the URL has its own return_path= option. Connects to nothing yet."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if not parts.path:
            raise ConfigError("mail_url file:// needs a folder, e.g. file:///var/mail/paperfeed")
        return FileBackend(Path(unquote(parts.path)))
    if parts.scheme == "console":
        return ConsoleBackend()
    if parts.scheme in ("smtp", "smtps"):
        return SmtpBackend.from_url(url, return_path=return_path)
    # Not the URL itself: an smtp URL with a typo in its scheme may still hold a password.
    raise ConfigError(
        f"mail_url must start with smtp://, smtps://, file:// or console:, not {parts.scheme!r}"
    )


def backend_from_settings(settings: Settings) -> MailBackend:
    """The backend of `mail_url`, DKIM-signing when the dkim_* settings are set."""
    backend = backend_from_url(settings.mail_url, return_path=settings.mail_return_path)
    signer = load_signer(settings.dkim_domain, settings.dkim_selector, settings.dkim_key_file)
    return SigningBackend(backend, signer) if signer else backend
