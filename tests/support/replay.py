"""A real HTTP server on loopback that replays recorded responses, in order, per request.

Tests point a source's endpoint at `ReplayServer.url` and queue exchanges: each request takes
the next exchange queued for its path and query (query order does not matter). Besides plain
answers it can misbehave like real servers: hang past the client's timeout, drop the
connection, or cut a body short. Every request it received is kept in `requests`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Exchange:
    status: int = 200
    body: bytes | str = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    behaviour: str = "answer"  # answer | hang | drop | truncate
    hang_s: float = 5.0


def request_key(path_and_query: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(path_and_query)
    return parts.path, tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))


class ReplayServer:
    def __init__(self) -> None:
        self._queues: dict[tuple, deque[Exchange]] = defaultdict(deque)
        self._fallback: deque[Exchange] = deque()
        self.requests: list[str] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._serve(self)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        # A short poll interval makes stop() quick; the default 0.5 s adds up over many tests.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ReplayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def queue(self, path_and_query: str | None, exchange: Exchange) -> None:
        """Queue an answer for one path+query, or for any request when path_and_query is None."""
        with self._lock:
            if path_and_query is None:
                self._fallback.append(exchange)
            else:
                self._queues[request_key(path_and_query)].append(exchange)

    def pending(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values()) + len(self._fallback)

    def _next(self, path: str) -> Exchange | None:
        with self._lock:
            self.requests.append(path)
            queue = self._queues.get(request_key(path))
            if queue:
                return queue.popleft()
            if self._fallback:
                return self._fallback.popleft()
            return None

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        exchange = self._next(handler.path)
        if exchange is None:
            exchange = Exchange(404, f"no recording for {handler.path}")
        body = exchange.body.encode() if isinstance(exchange.body, str) else exchange.body
        if exchange.behaviour == "hang":
            time.sleep(exchange.hang_s)
            return
        if exchange.behaviour == "drop":
            handler.close_connection = True
            handler.connection.close()
            return
        handler.send_response(exchange.status)
        skip = {"content-length", "transfer-encoding", "connection", "content-encoding"}
        for name, value in exchange.headers:
            if name.lower() not in skip:
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        if exchange.behaviour == "truncate":
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.close()
            return
        handler.wfile.write(body)


# Loaders for the recording formats of the shared data set.


def oai_interceptors(path: Path) -> list[tuple[str, Exchange]]:
    """A recorded OAI-PMH exchange list: [{path, status, response, rawHeaders|headers}, ...]."""
    items = json.loads(path.read_text())
    result = []
    for item in items:
        raw = item.get("rawHeaders")
        if raw:
            headers = list(zip(raw[::2], raw[1::2], strict=True))
        else:
            headers = list((item.get("headers") or {}).items())
        body = item.get("response", "")
        if not isinstance(body, str):
            body = json.dumps(body)
        result.append((item["path"], Exchange(item["status"], body, headers)))
    return result


def arxiv_api_recording(path: Path) -> tuple[str, Exchange]:
    """A recorded arXiv API answer: {url, status_code, body}; returns (path+query, exchange).

    The recorder stored arXiv's UTF-8 bytes decoded as Latin-1 ("WÃ¼bben"); encoding the text
    back to Latin-1 gives exactly the bytes arXiv sent.
    """
    item = json.loads(path.read_text())
    parts = urlsplit(item["url"])
    headers = [("Content-Type", "application/atom+xml; charset=utf-8")]
    try:
        body: bytes | str = item["body"].encode("latin-1")
    except UnicodeEncodeError:
        body = item["body"]
    return f"{parts.path}?{parts.query}", Exchange(item["status_code"], body, headers)
