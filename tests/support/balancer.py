"""A round-robin reverse proxy on loopback: each request goes to the next backend in turn, as a
load balancer in front of several `paperfeed serve` processes would send it (so a page and the
form it posts, or a sign-in and the next page, usually reach different processes)."""

from __future__ import annotations

import http.client
import itertools
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Hop-by-hop headers (RFC 9110 7.6.1) are not forwarded.
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
    "upgrade",
}  # fmt: skip


class RoundRobinProxy:
    def __init__(self, backends: list[str]) -> None:
        self.backends = [urlsplit(url) for url in backends]
        self.served = [0] * len(backends)
        turns = itertools.cycle(range(len(backends)))
        lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                with lock:
                    turn = next(turns)
                    proxy.served[turn] += 1
                backend = proxy.backends[turn]
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["X-Forwarded-For"] = self.client_address[0]
                upstream = http.client.HTTPConnection(backend.hostname, backend.port, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    content = answer.read()
                    self.send_response(answer.status, answer.reason)
                    for name, value in answer.getheaders():
                        if name.lower() not in HOP_BY_HOP | {"content-length"}:
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(content)
                except (BrokenPipeError, ConnectionResetError):
                    # The browser gave up on this request (it moved on to another page): as a
                    # real proxy would, drop the answer instead of printing a traceback.
                    self.close_connection = True
                finally:
                    upstream.close()

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _forward  # noqa: N815 - http.server names

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> RoundRobinProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
