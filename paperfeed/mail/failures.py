"""What a failed send means for the caller: retry later, count a bounce, or stop and fix the setup.

Raised by the mail backends (smtp.py) and used by bounces.py for the recipients a delivery report
names. The digest sender decides what to do with each class; nothing here retries or stores.
"""

from __future__ import annotations

from dataclasses import dataclass

from paperfeed.errors import ConfigError, PaperfeedError


@dataclass(frozen=True, slots=True)
class Bounce:
    """One recipient a server refused, or a delivery report says was not delivered."""

    recipient: str
    status: str  # enhanced status code ("5.1.1"), or the reply code's class ("5.0.0") if none
    code: int | None  # the SMTP reply code (550) when one is known
    text: str  # the server's own words
    is_hard: bool  # permanent: the address should get nothing more

    @classmethod
    def from_reply(cls, recipient: str, code: int, text: str) -> Bounce:
        """A refusal read from an SMTP reply such as `550 5.1.1 <a@b>: user unknown`."""
        status = enhanced_status(text) or f"{code // 100}.0.0"
        return cls(recipient, status, code, text, is_hard=code >= 500)


def enhanced_status(text: str) -> str:
    """The RFC 3463 status code that starts a reply text ("5.1.1 user unknown"), or ""."""
    first = text.strip().split(" ", 1)[0] if text.strip() else ""
    parts = first.split(".")
    if (
        len(parts) == 3
        and parts[0] in {"2", "4", "5"}
        and all(p.isdigit() and len(p) <= 3 for p in parts[1:])
    ):
        return first
    return ""


class MailFailure(PaperfeedError):
    """A message was not sent. `code` and `text` are the server's reply when there was one."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        text: str = "",
        rejected: tuple[Bounce, ...] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.text = text
        self.rejected = rejected  # the recipients the server refused, each with its reply


class TemporaryMailFailure(MailFailure):
    """Try the same message again later: a 4xx reply, a dropped connection or a timeout.

    After a failure during DATA the server may have kept the message anyway (SMTP cannot say),
    so a retry can, rarely, deliver twice."""


class PermanentMailFailure(MailFailure):
    """The server refused this message for good (5xx): count a bounce for `rejected`."""


class MailSetupFailure(MailFailure, ConfigError):
    """No message can go until an operator fixes `mail_url` or the server: authentication was
    refused, TLS failed or its certificate is not trusted, or the server refused the sender.
    Not a bounce: no recipient is at fault."""
