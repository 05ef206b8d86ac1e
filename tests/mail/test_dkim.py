"""DKIM signing: mail sent by SMTP and mail saved as .eml both verify with dkimpy against the
public key, served to the verifier by a DNS function (no network)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from email import message_from_bytes, policy
from pathlib import Path

import dkim
import pytest

from paperfeed.config import load_settings
from paperfeed.errors import ConfigError
from paperfeed.mail.backends import backend_from_settings
from paperfeed.mail.dkim import SigningBackend, load_signer
from paperfeed.mail.message import finish_headers
from tests.mail.test_smtp import digest

DOMAIN, SELECTOR = "papers.example.org", "pf2026"


@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory) -> tuple[Path, bytes]:
    """(private key file, the TXT record publishing its public key)."""
    folder = tmp_path_factory.mktemp("dkim")
    private, public_der = _rsa_key(folder / "dkim.pem")
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public_der)
    return private, record


def _rsa_key(path: Path) -> tuple[Path, bytes]:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:
        openssl = shutil.which("openssl")
        subprocess.run(
            [openssl, "genrsa", "-out", str(path), "2048"], check=True, capture_output=True
        )
        der = subprocess.run(
            [openssl, "rsa", "-in", str(path), "-pubout", "-outform", "DER"],
            check=True,
            capture_output=True,
        ).stdout
        return path, der
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, der


def dns_serving(record: bytes):
    def dnsfunc(name: bytes, timeout: float = 5) -> bytes | None:
        return record if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None

    return dnsfunc


def signing_settings(tmp_path: Path, mail_url: str, key_file: Path):
    return load_settings(
        {
            "home": str(tmp_path / "home"),
            "mail_url": mail_url,
            "dkim_domain": DOMAIN,
            "dkim_selector": SELECTOR,
            "dkim_key_file": str(key_file),
        },
        environ={},
    )


def test_mail_sent_by_smtp_is_signed_and_verifies(smtp_server, dkim_key, tmp_path):
    key_file, record = dkim_key
    message = digest(subject="Papers on Schrödinger bridges")
    message["List-Unsubscribe"] = "<https://papers.example.org/unsubscribe?token=abc>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.add_alternative("<p>Today’s papers</p>", subtype="html")
    backend = backend_from_settings(signing_settings(tmp_path, smtp_server.url, key_file))
    assert isinstance(backend, SigningBackend)
    with backend:
        backend.send(message)
    [received] = smtp_server.messages
    assert received.data.startswith(b"DKIM-Signature: ")  # prepended, as RFC 6376 asks
    assert dkim.verify(received.data, dnsfunc=dns_serving(record))
    signature = received.message["DKIM-Signature"]
    assert f"d={DOMAIN}" in signature and f"s={SELECTOR}" in signature
    assert "list-unsubscribe-post" in signature.replace("\n", "").replace(" ", "").lower()
    tampered = received.data.replace(b"Today's papers", b"Todays papers")
    assert not dkim.verify(tampered, dnsfunc=dns_serving(record))


def test_a_saved_eml_is_signed_and_verifies(dkim_key, tmp_path):
    key_file, record = dkim_key
    folder = tmp_path / "outbox"
    backend = backend_from_settings(signing_settings(tmp_path, folder.as_uri(), key_file))
    message = digest()
    backend.send(message)
    backend.send(message)  # a retry of the same message is signed afresh, not twice
    for saved in sorted(folder.glob("*.eml")):
        data = saved.read_bytes()
        assert dkim.verify(data, dnsfunc=dns_serving(record)), saved.name
        assert len(message_from_bytes(data, policy=policy.default).get_all("DKIM-Signature")) == 1


def test_without_dkim_settings_nothing_is_signed(smtp_server, tmp_path):
    settings = load_settings(
        {"home": str(tmp_path), "mail_url": smtp_server.url, "mail_return_path": "b@x.org"},
        environ={},
    )
    with backend_from_settings(settings) as backend:
        backend.send(finish_headers(digest(), DOMAIN))
    [received] = smtp_server.messages
    assert "DKIM-Signature" not in received.message and received.mail_from == "b@x.org"
    assert load_signer("", "", "") is None


def test_half_configured_or_unreadable_keys_are_refused(tmp_path, dkim_key):
    with pytest.raises(ConfigError, match="dkim_selector is empty"):
        load_signer(DOMAIN, "", dkim_key[0])
    with pytest.raises(ConfigError, match="cannot read"):
        load_signer(DOMAIN, SELECTOR, tmp_path / "missing.pem")
    not_a_key = tmp_path / "cert.pem"
    not_a_key.write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match="not an RSA private key"):
        load_signer(DOMAIN, SELECTOR, not_a_key)
