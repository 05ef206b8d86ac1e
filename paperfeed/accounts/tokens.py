"""Random secrets for links and cookies, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets


def new_secret() -> tuple[str, str]:
    """(secret to hand out, hash to store)."""
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()
