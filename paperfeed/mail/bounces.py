"""Reading bounce reports: RFC 3464 delivery status notifications sent to the return path.

Whoever collects mail from the return-path mailbox feeds each report's raw bytes to
read_delivery_report and suppresses the addresses that bounced hard. Pure: it parses bytes,
stores nothing, and on anything unreadable raises InvalidInput, never another error.
"""

from __future__ import annotations

import email
import email.errors
import logging
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import collapse_rfc2231_value

from paperfeed.errors import InvalidInput
from paperfeed.mail.failures import Bounce, enhanced_status

log = logging.getLogger(__name__)

MAX_REPORT_BYTES = 10 * 1024 * 1024  # a report quotes at most the bounced mail; digests are small
_STATUS = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")
_REPLY_CODE = re.compile(r"^\s*([245]\d\d)\b")
_STATUS_PARTS = ("message/delivery-status", "message/global-delivery-status")
_RETURNED_PARTS = (
    "message/rfc822",
    "message/global",
    "text/rfc822-headers",
    "message/global-headers",
)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    reporting_mta: str  # "mail.example.org", "" if not given
    original_message_id: str  # Message-ID of the mail that bounced, "" if the report omits it
    original_envelope_id: str  # the ENVID given at sending time, "" if none
    bounces: tuple[Bounce, ...]  # failed and delayed recipients; delivered ones are left out


def read_delivery_report(raw: bytes) -> DeliveryReport:
    """The failed and delayed recipients a delivery status notification reports.

    A recipient bounced hard when its Action is `failed` with a 5.x.x Status; 4.x.x statuses
    and `delayed` are soft. Raises InvalidInput for anything that is not such a report."""
    if len(raw) > MAX_REPORT_BYTES:
        raise InvalidInput(f"a delivery report of {len(raw)} bytes is too large to read")
    try:
        return _read(email.message_from_bytes(raw))
    except (ValueError, TypeError, LookupError, UnicodeError, email.errors.MessageError) as exc:
        raise InvalidInput(f"not a readable delivery status report ({exc})") from exc


def _read(report: Message) -> DeliveryReport:
    if report.get_content_type() != "multipart/report":
        raise InvalidInput(
            f"not a delivery status report: it is {report.get_content_type()}, not multipart/report"
        )
    report_type = collapse_rfc2231_value(report.get_param("report-type", "")).lower()
    if report_type not in ("delivery-status", "global-delivery-status"):
        raise InvalidInput(f"not a delivery status report (report-type={report_type or 'none'})")
    parts = list(report.walk())
    status = next((p for p in parts if p.get_content_type() in _STATUS_PARTS), None)
    if status is None:
        raise InvalidInput("the report has no message/delivery-status part")
    blocks = _field_blocks(status)
    recipients = [b for b in blocks if b.get("Final-Recipient") or b.get("Original-Recipient")]
    if not recipients:
        raise InvalidInput("the delivery status part names no recipient")
    bounces = []
    for block in recipients:
        bounce = _bounce(block)
        if bounce is not None:
            bounces.append(bounce)
    first = blocks[0] if blocks else Message()
    return DeliveryReport(
        reporting_mta=_typed_value(_field(first, "Reporting-MTA")),
        original_message_id=_original_message_id(parts),
        original_envelope_id=_field(first, "Original-Envelope-Id"),
        bounces=tuple(bounces),
    )


def _field_blocks(part: Message) -> list[Message]:
    """The per-message block, then one block per recipient. Python's parser splits a
    message/delivery-status part into blocks itself; the global (UTF-8) form arrives as text."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    if isinstance(payload, str):
        body = part.get_payload(decode=True)  # bytes, as the payload is not multipart
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else ""
        return [HeaderParser().parsestr(b.strip()) for b in re.split(r"\r?\n\s*\r?\n", text)]
    return []


def _bounce(block: Message) -> Bounce | None:
    action = _field(block, "Action").lower()
    if action not in ("failed", "delayed"):
        return None  # delivered, relayed or expanded: nothing went wrong
    recipient = _recipient(block)
    diagnostic = _typed_value(_field(block, "Diagnostic-Code"))
    reply = _REPLY_CODE.match(diagnostic)
    code = int(reply.group(1)) if reply else None
    found = _STATUS.match(_field(block, "Status"))
    after_code = diagnostic[reply.end() :] if reply else diagnostic
    status = found.group(1) if found else enhanced_status(after_code)
    if not status and code is not None:
        status = f"{code // 100}.0.0"
    if not recipient or not status:
        log.warning("skipping a report block recipient=%r status=%r", recipient, status)
        return None
    text = diagnostic or f"{action} ({status})"
    is_hard = action == "failed" and status.startswith("5.")
    return Bounce(recipient, status, code, text, is_hard)


def _recipient(block: Message) -> str:
    """The address as it was sent: Original-Recipient (before any forwarding) when it is an
    email address, else Final-Recipient; lower-cased, as paperfeed stores addresses."""
    for name in ("Original-Recipient", "Final-Recipient"):
        value = _field(block, name)
        kind, separator, address = value.partition(";")
        if not separator:  # a bare address, without the address type RFC 3464 asks for
            kind, address = "rfc822", value
        address = address.strip().strip("<>").strip()
        if kind.strip().lower() in ("rfc822", "utf-8") and "@" in address:
            return address.lower()
    return ""


def _original_message_id(parts: list[Message]) -> str:
    for part in parts:
        kind = part.get_content_type()
        if kind not in _RETURNED_PARTS:
            continue
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            headers = payload[0]
        elif isinstance(payload, str):
            body = part.get_payload(decode=True)  # bytes, as the payload is not multipart
            text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else ""
            headers = HeaderParser().parsestr(text)
        else:
            continue
        message_id = _field(headers, "Message-ID")
        if message_id:
            return message_id
    return ""


def _field(block: Message, name: str) -> str:
    """A header as plain one-line text; "" when missing. Undecodable bytes become U+FFFD."""
    value = block.get(name)
    if value is None:
        return ""
    text = str(value).encode("utf-8", errors="replace").decode("utf-8")
    return " ".join(text.split())


def _typed_value(value: str) -> str:
    """`dns; mail.example.org` → `mail.example.org` (RFC 3464's type; value fields)."""
    kind, separator, rest = value.partition(";")
    return rest.strip() if separator else value.strip()
