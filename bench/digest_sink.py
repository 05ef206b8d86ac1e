"""The loopback SMTP sink of bench/digest.py: a minimal asyncio server or aiosmtpd, run in
its own process, and the `Sink` handle that starts it and reads its counts (XSTAT)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

from digest_common import ROOT, SAMPLE, SCRIPT


class _SinkProtocol(asyncio.Protocol):
    """Just enough ESMTP for smtplib: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, and XSTAT."""

    stats = {"messages": 0, "bytes": 0, "recipients": 0, "connections": 0}
    stats |= {"first_at": 0.0, "last_at": 0.0}
    seen: set[str] = set()
    sample_path: str | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.buffer = bytearray()
        self.in_data = False
        self.scanned = 0
        self.recipients: list[str] = []
        self.stats["connections"] += 1
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.buffer:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n", max(0, self.scanned - 4))
                if end < 0:
                    self.scanned = len(self.buffer)
                    return
                self._message(bytes(self.buffer[: end + 2]))
                del self.buffer[: end + 5]
                self.in_data, self.scanned = False, 0
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return
            line = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[: end + 2]
            self._command(line)

    def _message(self, content: bytes) -> None:
        stats = self.stats
        stats["messages"] += 1
        stats["bytes"] += len(content)
        stats["last_at"] = time.time()
        if stats["messages"] == 1:
            stats["first_at"] = stats["last_at"]
        for address in self.recipients:
            stats["recipients"] += 1
            self.seen.add(address)
        if self.sample_path and stats["messages"] == 1:
            Path(self.sample_path).write_bytes(content)
        self.recipients = []
        self.transport.write(b"250 2.0.0 OK discarded\r\n")

    def _command(self, line: str) -> None:
        verb = line[:4].upper()
        write = self.transport.write
        if verb in ("EHLO", "LHLO"):
            write(b"250-sink\r\n250-8BITMIME\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n")
        elif verb == "HELO":
            write(b"250 sink\r\n")
        elif verb == "MAIL":
            self.recipients = []
            write(b"250 2.1.0 OK\r\n")
        elif verb == "RCPT":
            address = line.partition(":")[2].strip().partition(" ")[0].strip("<>").lower()
            self.recipients.append(address)
            write(b"250 2.1.5 OK\r\n")
        elif verb == "DATA":
            self.in_data = True
            write(b"354 end with <CRLF>.<CRLF>\r\n")
        elif verb in ("RSET", "NOOP"):
            self.recipients = []
            write(b"250 2.0.0 OK\r\n")
        elif verb == "QUIT":
            write(b"221 2.0.0 bye\r\n")
            self.transport.close()
        elif verb == "XSTA":
            stats = dict(self.stats, distinct=len(self.seen))
            if "RESET" in line.upper():
                for key in ("messages", "bytes", "recipients"):
                    self.stats[key] = 0
                self.stats["first_at"] = 0.0
                self.seen.clear()
            write(f"250 {json.dumps(stats)}\r\n".encode())
        else:
            write(b"500 5.5.2 unknown command\r\n")


def run_sink(kind: str, sample: str) -> None:
    """The sink process: prints its port, then serves until killed."""
    if kind == "aiosmtpd":
        run_aiosmtpd_sink(sample)
        return
    # uvloop when installed (a dependency of paperfeed's server); plain asyncio otherwise.
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    _SinkProtocol.sample_path = sample

    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(_SinkProtocol, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(serve())


def run_aiosmtpd_sink(sample: str) -> None:
    import threading

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    stats = {"messages": 0, "bytes": 0, "recipients": 0, "connections": 0}
    stats |= {"first_at": 0.0, "last_at": 0.0}
    seen: set[str] = set()

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            stats["messages"] += 1
            stats["last_at"] = time.time()
            if stats["messages"] == 1:
                stats["first_at"] = stats["last_at"]
            stats["bytes"] += len(envelope.original_content)
            stats["recipients"] += len(envelope.rcpt_tos)
            seen.update(a.lower() for a in envelope.rcpt_tos)
            if stats["messages"] == 1:
                Path(sample).write_bytes(envelope.original_content)
            return "250 2.0.0 OK discarded"

    class Counting(SMTP):
        async def smtp_XSTAT(self, arg: str) -> None:  # noqa: N802
            await self.push("250 " + json.dumps(dict(stats, distinct=len(seen))))
            if "RESET" in (arg or "").upper():
                for key in ("messages", "bytes", "recipients"):
                    stats[key] = 0
                seen.clear()

    class CountingController(Controller):
        def factory(self):
            return Counting(self.handler, enable_SMTPUTF8=True)

    # aiosmtpd's start() connects to the configured port to check the server is up, so it
    # needs a real port number, not 0: take a free one first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = CountingController(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    threading.Event().wait()


class Sink:
    def __init__(self, kind: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--child-sink", kind, str(SAMPLE)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.port = int(self.process.stdout.readline())

    def stats(self, *, reset: bool = False) -> dict:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as smtp:
            code, text = smtp.docmd("XSTAT", "RESET" if reset else "")
        if code != 250:
            raise SystemExit(f"sink: XSTAT answered {code} {text!r}")
        stats = json.loads(text)
        stats["connections"] -= 1  # this one
        return stats

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
