"""Mail requests: how long subscribe and sign-in answers take, by who the address belongs to.

    .venv/bin/python bench/mail_timing.py                  # 40 requests of each kind
    .venv/bin/python bench/mail_timing.py --requests 100 --delay-ms 50

Runs the real `paperfeed serve` (SQLite, a fresh home under bench/.work/mail/) with mail going
to a real SMTP server on loopback (aiosmtpd, from the test extras) that accepts every message
after --delay-ms (a relay's usual pause). Addresses are prepared in three states: new, already
subscribed (they get a reminder) and suppressed (they get nothing); sign-in asks for new ones.
Each request comes from its own client address (X-Forwarded-For from loopback, which the server
trusts) so the per-client limits do not interfere; the hourly cap is raised for the run.

Printed: the median and 90th percentile answer time of each kind, the largest gap between the
subscribe answers' medians (what an observer could read off the timing), and, as the baseline
measured in the same run, what the same relay takes to accept one message (the time an answer
used to include when mail was sent inside the request, and suppressed addresses skipped).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import httpx
from common import free_port  # a sibling module: bench/ is on the path of a bench script

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work" / "mail"


class SlowRelay:
    """Accepts every message after `delay_s`, and counts them."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.received = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        import asyncio

        await asyncio.sleep(self.delay_s)
        self.received += 1
        return "250 2.0.0 OK queued"


def prepare(home: Path, count: int) -> None:
    """Subscribed and suppressed addresses, written with the real domain functions."""
    os.environ["PAPERFEED_HOME"] = str(home)
    from paperfeed.config import load_settings
    from paperfeed.digest import subscriptions
    from paperfeed.services import build
    from paperfeed.storage import subscribers
    from paperfeed.storage.db import writing

    services = build(load_settings({"home": str(home)}, environ={}))
    now = datetime.now(UTC)
    preferences = subscriptions.preferences_from({})
    for i in range(count):
        for kind in ("known", "gone"):
            address = f"{kind}{i}@example.org"
            subscriptions.add(services.engine, address, preferences, confirmed=True, now=now)
    with writing(services.engine) as conn:
        for i in range(count):
            subscribers.suppress(conn, f"gone{i}@example.org", "bounced: 550 5.1.1", now)
    services.close()


def timed_posts(url: str, kind: str, count: int) -> list[float]:
    path = "/sign-in" if kind == "sign-in" else "/subscribe"
    prefix = {"new": "new", "subscribed": "known", "suppressed": "gone", "sign-in": "reader"}[kind]
    seconds = []
    with httpx.Client(base_url=url, timeout=30) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)
        for i in range(count):
            form = {"csrf_token": token, "email": f"{prefix}{i}@example.org", "next": "/library"}
            # One client address per request, each in its own /64.
            headers = {"x-forwarded-for": f"2001:db8:{len(prefix)}{ord(prefix[0]):x}:{i:x}::1"}
            started = time.perf_counter()
            answer = client.post(path, data=form, headers=headers)
            seconds.append(time.perf_counter() - started)
            assert answer.status_code == 200, (kind, answer.status_code, answer.text[:300])
    return seconds


def one_send_seconds(mail_url: str, count: int) -> list[float]:
    from paperfeed.mail.backends import backend_from_url

    seconds = []
    with backend_from_url(mail_url) as backend:
        for i in range(count):
            message = EmailMessage()
            message["From"], message["To"] = "pf@example.org", f"probe{i}@example.org"
            message["Subject"] = "probe"
            message.set_content("Confirm your paperfeed digest: https://papers.example.org/x\n")
            started = time.perf_counter()
            backend.send(message)
            seconds.append(time.perf_counter() - started)
    return seconds


def ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="of each kind")
    parser.add_argument("--delay-ms", type=float, default=10.0, help="the relay's pause")
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    shutil.rmtree(WORK, ignore_errors=True)
    home = WORK / "home"
    home.mkdir(parents=True)
    prepare(home, args.requests)
    relay = SlowRelay(args.delay_ms / 1000)
    smtp_port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    mail_url = f"smtp://127.0.0.1:{smtp_port}?tls=none"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERFEED_")} | {
        "PAPERFEED_HOME": str(home),
        "PAPERFEED_MAIL_URL": mail_url,
        "PAPERFEED_MAIL_HOURLY_LIMIT": "100000",
        "PAPERFEED_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        timed_posts(url, "sign-in", 3)  # warm-up: templates, the first connection
        kinds = ("new", "subscribed", "suppressed", "sign-in")
        results = {kind: timed_posts(url, kind, args.requests) for kind in kinds}
        expected = 3 + 3 * args.requests  # warm-up, new, subscribed, sign-in: not suppressed
        deadline = time.monotonic() + 120
        while relay.received < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        delivered = relay.received
        baseline = one_send_seconds(mail_url, args.requests)
    finally:
        server.terminate()
        server.wait(timeout=30)
        controller.stop()

    print(f"mail requests, {args.requests} of each kind, relay pause {args.delay_ms:g} ms")
    print(f"{'answer to':<28} {'median ms':>10} {'p90 ms':>8}")
    for kind, values in results.items():
        print(f"{kind + ' address':<28} {ms(values, 0.5):>10.1f} {ms(values, 0.9):>8.1f}")
    medians = [statistics.median(results[k]) * 1000 for k in ("new", "subscribed", "suppressed")]
    print(f"largest gap between the subscribe medians: {max(medians) - min(medians):.1f} ms")
    print(f"baseline, one SMTP send to the same relay: {ms(baseline, 0.5):.1f} ms median")
    print(f"mail delivered after the answers: {delivered} of {expected}")


if __name__ == "__main__":
    main()
