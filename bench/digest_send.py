"""The sending side of bench/digest.py: the child processes that run `send_edition` as
`paperfeed digest send` would, and the smtplib baseline against the same sink."""

from __future__ import annotations

import json
import os
import smtplib
import subprocess
import sys
import time

import ingest as ingest_bench  # a sibling script, not a package
from digest_common import DATABASE, DAY, HOME, MODEL, ROOT, SAMPLE, SCRIPT, WORK

PUBLIC_URL = "https://papers.example.org"
MAIL_FROM = "paperfeed <digest@papers.example.org>"


def child_env(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERFEED_")}
    return env | {
        "PAPERFEED_HOME": str(HOME),
        "PAPERFEED_DATABASE_URL": f"sqlite:///{DATABASE}",
        "PAPERFEED_MAIL_URL": f"smtp://127.0.0.1:{port}?tls=none",
        "PAPERFEED_MAIL_FROM": MAIL_FROM,
        "PAPERFEED_PUBLIC_URL": PUBLIC_URL,
        "PAPERFEED_EMBEDDING_MODEL": MODEL,
        "PAPERFEED_LOG_LEVEL": "WARNING",
        "HF_HUB_OFFLINE": "1",
    }


def child_send(profile: str) -> None:
    """One sending process: `paperfeed digest send` for DAY, started on a line from stdin."""
    from paperfeed.config import load_settings
    from paperfeed.digest.send import send_edition
    from paperfeed.services import build

    services = build(load_settings())
    sender = services.digest_sender()
    print("ready", flush=True)
    sys.stdin.readline()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    summary = send_edition(services.engine, sender, DAY)
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    services.close()
    result = summary.as_dict() | {"seconds": seconds, "peak_rss_mib": ingest_bench.peak_rss_mib()}
    print(json.dumps(result), flush=True)


def run_senders(port: int, workers: int, profile: bool) -> dict:
    processes = []
    for n in range(workers):
        command = [sys.executable, str(SCRIPT), "--child-send"]
        if profile and n == 0:
            command.append(str(WORK / "send.prof"))
        processes.append(
            subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=child_env(port),
                cwd=ROOT,
            )
        )
    for process in processes:
        if process.stdout.readline().strip() != "ready":
            raise SystemExit("a sending process did not start")
    started, go_at = time.perf_counter(), time.time()
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    results = []
    for process in processes:
        output, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"a sending process failed (exit {process.returncode})")
        results.append(json.loads(output.strip().splitlines()[-1]))
    wall = time.perf_counter() - started
    return {"wall_s": wall, "go_at": go_at, "workers": results}


def run_baseline(port: int, count: int) -> dict:
    """smtplib sending the same pre-rendered digest `count` times over one connection."""
    data = SAMPLE.read_bytes()
    sender = "digest@papers.example.org"
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo()
        started = time.perf_counter()
        for n in range(count):
            smtp.sendmail(sender, [f"baseline{n:06d}@example.org"], data)
        seconds = time.perf_counter() - started
    return {"messages": count, "seconds": seconds, "per_s": count / seconds, "bytes": len(data)}
