"""What every mail backend is (MailBackend) and what every message gets before it leaves.

Shared by the backends (backends.py, smtp.py, the DKIM wrapper in dkim.py) and their callers,
so none of them imports another only for the protocol.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol


class MailBackend(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> MailBackend: ...

    def __exit__(self, *exc: object) -> None: ...


def finish_headers(message: EmailMessage, domain: str) -> EmailMessage:
    """Every message leaves with a Date and a unique Message-ID."""
    if "Date" not in message:
        message["Date"] = formatdate(localtime=False, usegmt=True)
    if "Message-ID" not in message:
        message["Message-ID"] = make_msgid(domain=domain)
    return message
