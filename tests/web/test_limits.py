"""Request bodies over the limit are refused before they are read (issue 17 §3): a declared
Content-Length at once, a chunked body while it streams, on every route, on a live server."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from paperfeed.web.limits import FORM_BYTES, UPLOAD_BYTES
from tests.support.live import LiveServer, cli_env

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def server(services, tmp_path):
    live = LiveServer(cli_env(tmp_path, services.settings.database_url)).wait_ready()
    yield live
    live.stop()


def raw_post(url: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, str]:
    """Send headers (and maybe part of a body) as a client that lies would; (status, text)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        conn.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode() + body)
        answer = b""
        while chunk := conn.recv(65536):  # the server closes the connection after a refusal
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1]), answer.decode(errors="replace")


@sqlite_only
def test_a_declared_500_mb_upload_is_refused_before_a_byte_is_read(server):
    started = time.monotonic()
    status, answer = raw_post(
        server.url,
        "/library/import",
        {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(500 * 2**20)},
    )
    assert status == 413 and "larger than this page accepts (5 MiB)" in answer
    assert time.monotonic() - started < 5  # nothing was waited for: no byte of it was sent
    for path in ("/subscribe", "/sign-in", "/api/papers/2401.00001/save"):
        status, _ = raw_post(server.url, path, {"Content-Length": str(FORM_BYTES + 1)})
        assert status == 413, path
    status, _ = raw_post(server.url, "/subscribe", {"Content-Length": "12abc"})
    assert status == 400


@sqlite_only
def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(server):
    sent = 0

    def endless():
        nonlocal sent
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.bib"\r\n\r\n'
        while sent < 50 * 2**20:
            sent += 2**16
            yield b"x" * 2**16

    with httpx.Client(base_url=server.url, timeout=30) as client:
        try:
            answer = client.post(
                "/library/import",
                content=endless(),
                headers={"content-type": "multipart/form-data; boundary=x"},
            )
            assert answer.status_code == 413
        except httpx.TransportError:
            pass  # the server may close the connection while the client is still sending
        assert sent < 50 * 2**20  # the server stopped reading long before the end
        assert sent <= UPLOAD_BYTES["/library/import"] + 8 * 2**20
        answer = client.post("/api/search", content=(b"y" * 2**16 for _ in range(64)))
        assert answer.status_code in (405, 413)
        assert client.get("/healthz").status_code == 200  # and it serves others meanwhile


@sqlite_only
def test_json_routes_say_413_in_the_json_error_shape(server):
    answer = httpx.post(
        server.url + "/api/papers/2401.00001/save",
        content=b"z" * (FORM_BYTES + 10),
        headers={"content-type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert answer.status_code == 413
    assert answer.json()["status"] == 413 and "larger than" in answer.json()["error"]
