"""Mail backends: `file:///folder` writes one .eml per message, `console:` prints them.

SMTP delivery (with retries, bounces and a send rate) belongs to the digest work; until then a
`smtp://` URL is refused with a clear message rather than half supported.
"""

from __future__ import annotations

import os
import sys
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol, TextIO
from urllib.parse import unquote, urlsplit

from paperfeed.errors import ConfigError


class MailBackend(Protocol):
    def send(self, message: EmailMessage) -> None: ...


def finish_headers(message: EmailMessage, domain: str) -> EmailMessage:
    """Every message leaves with a Date and a unique Message-ID."""
    if "Date" not in message:
        message["Date"] = formatdate(localtime=False, usegmt=True)
    if "Message-ID" not in message:
        message["Message-ID"] = make_msgid(domain=domain)
    return message


class FileBackend:
    """Writes each message as <folder>/<time>-<random>.eml, atomically (temp file + rename),
    so a reader of the folder never sees half a message."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid1().hex}.eml"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(message.as_bytes())
        os.replace(partial, self.folder / name)


class ConsoleBackend:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, message: EmailMessage) -> None:
        stream = self.stream or sys.stderr
        stream.write(message.as_string() + "\n" + "-" * 72 + "\n")
        stream.flush()


def backend_from_url(url: str) -> MailBackend:
    parts = urlsplit(url)
    if parts.scheme == "file":
        if not parts.path:
            raise ConfigError("mail_url file:// needs a folder, e.g. file:///var/mail/paperfeed")
        return FileBackend(Path(unquote(parts.path)))
    if parts.scheme == "console":
        return ConsoleBackend()
    if parts.scheme in ("smtp", "smtps"):
        raise ConfigError(
            "mail_url: SMTP delivery is not available yet; use file:///folder or console:"
        )
    raise ConfigError(f"mail_url must start with file:// or console:, not {url!r}")
