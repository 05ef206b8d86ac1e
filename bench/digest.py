"""Digest sending: digests/s and peak memory of the real `send_edition` to a loopback SMTP sink.

    .venv/bin/python bench/digest.py                           # 100,000 subscribers, 1 worker
    .venv/bin/python bench/digest.py --subscribers 5000        # a quick run
    .venv/bin/python bench/digest.py --workers 2               # two sending processes at once
    .venv/bin/python bench/digest.py --subscribers 5000 --profile   # cProfile of one worker
    .venv/bin/python bench/digest.py --rebuild                 # build the database again

The database (bench/.work/digest/home/, built once; about 3 minutes):
1. the 83,426 real arXiv records (the snapshot file bench/ingest.py writes) through `ingest()`,
   as first seen on a backfill day two months before the edition;
2. the edition is Sunday 2026-02-01, so daily and weekly subscribers are all due. The papers
   submitted in the 7 days up to it are "announced" a day after submission (first_seen_at =
   published_at + 24 h, at most that Sunday 20:00): the daily pool is ~240 papers, the weekly
   one ~1,240;
3. MiniLM vectors (the default model, through search.embedder) for those papers and for 150
   papers of the week before, which some subscribers voted on;
4. trending: the last 7 recorded Hugging Face days' final upvote counts, each on a random paper
   of the week, as `hf` readings every 2 hours from its announcement, stored by `ingest()` as a
   run finishing that Sunday 06:00 (so the digests carry no "stale source" note).

Subscribers (rebuilt when --subscribers changes; fixed seed; inserted in bulk): 75% daily, 25%
weekly; 10% with no topics (trending only); the others 0-3 categories drawn by the corpus's own
category frequencies and 0-3 keywords drawn by frequency from its 600 commonest title words and
400 commonest title bigrams (at least one of the two); 10% exclude one common title word;
paper_count from 5 to 20 (mostly 10); 5% voted 👍/👎 on 1-4 papers of the week before (and were
sent those papers). Every run first deletes the edition's deliveries and sent papers.

The sink: a minimal asyncio SMTP server in its own process (uvloop when installed) that accepts
every message, discards it and counts messages, bytes and distinct recipients, which the bench
reads back with a private XSTAT command. aiosmtpd (`--sink aiosmtpd`, what the tests use) reads
DATA line by line in Python and is too slow to measure ~1,000 messages/s against.

Measured: K child processes (--workers) each build the services from PAPERFEED_* settings as
`paperfeed digest send` does (mail_url `smtp://127.0.0.1:PORT?tls=none`, no DKIM) and wait;
the clock starts when all are told to go and stops when the last one has returned from
`send_edition`. Each child reports its own peak memory (VmHWM). The baseline in the same run:
smtplib sending one digest (the first one the sink received) --baseline-messages times over one
connection to the same sink. The bench then checks that the sink received exactly one message
per subscriber and that the ledger says "sent" for each.

The parts live in sibling modules: digest_corpus.py (the database: papers, vectors, trending),
digest_subscribers.py (the subscribers and the edition's ledger), digest_sink.py (the sink),
digest_send.py (the sending processes and the baseline), digest_report.py (the printed report
and its checks); digest_common.py holds the paths, the edition's times and the helpers they
share. The sink and the sending processes run this script again (--child-sink, --child-send).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from digest_common import SAMPLE, engine_of, say  # noqa: E402  (sibling scripts, not a package)
from digest_corpus import build_database  # noqa: E402
from digest_report import print_report  # noqa: E402
from digest_send import child_send, run_baseline, run_senders  # noqa: E402
from digest_sink import Sink, run_sink  # noqa: E402
from digest_subscribers import ensure_subscribers, ledger_counts, reset_edition  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1, help="sending processes side by side")
    parser.add_argument("--baseline-messages", type=int, default=20_000)
    parser.add_argument("--sink", choices=("asyncio", "aiosmtpd"), default="asyncio")
    parser.add_argument("--profile", action="store_true", help="cProfile the first worker")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--child-sink", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-send", nargs="?", const="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_sink:
        run_sink(*args.child_sink)
        return
    if args.child_send is not None:
        child_send(args.child_send)
        return

    build = build_database(args.rebuild)
    engine = engine_of()
    population = ensure_subscribers(engine, args.subscribers, build["voted_papers"])
    reset_edition(engine)
    SAMPLE.unlink(missing_ok=True)
    say(f"population: {json.dumps(population['kinds'])}")

    sink = Sink(args.sink)
    try:
        say(f"send: {args.subscribers:,} subscribers, {args.workers} worker(s), sink {args.sink}")
        run = run_senders(sink.port, args.workers, args.profile)
        received = sink.stats(reset=True)
        say(f"baseline: smtplib, {args.baseline_messages:,} messages")
        baseline = run_baseline(sink.port, args.baseline_messages)
        baseline_received = sink.stats(reset=True)
    finally:
        sink.stop()
    counts = ledger_counts(engine)
    engine.dispose()

    if not print_report(args, run, received, baseline, baseline_received, counts):
        sys.exit(1)


if __name__ == "__main__":
    main()
