"""Checking and normalising email addresses typed into a form."""

from __future__ import annotations

import re

from paperfeed.errors import InvalidInput

# Deliberately plain: a local part and a dotted domain, no spaces, quotes, comments or control
# characters. Anything stranger is far more likely a typo or an attack than a real address.
_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$"
)


def normalize_email(raw: str | None) -> str:
    """The address, lower-cased and checked; InvalidInput says what is wrong."""
    address = (raw or "").strip()
    if not address:
        raise InvalidInput("enter an email address")
    if len(address) > 254 or not _ADDRESS.match(address):
        raise InvalidInput("that does not look like an email address (name@example.org)")
    local, domain = address.rsplit("@", 1)
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidInput("that does not look like an email address (name@example.org)")
    if any(label.startswith("-") or label.endswith("-") for label in domain.split(".")):
        raise InvalidInput("that does not look like an email address (name@example.org)")
    return address.lower()
