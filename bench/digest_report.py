"""The printed side of bench/digest.py: the results table (send_edition, its workers, the
smtplib baseline), the checks, the goal and the optional cProfile tables."""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

from digest_common import DAY, WORK

GOAL_PER_S = 1000


def print_report(
    args: argparse.Namespace,
    run: dict,
    received: dict,
    baseline: dict,
    baseline_received: dict,
    counts: dict,
) -> bool:
    """The results after a run; True when every check is ok."""
    sent = sum(w["sent"] for w in run["workers"])
    rate = sent / run["wall_s"]
    checks = {
        "sink received one message per subscriber": received["messages"] == args.subscribers
        and received["distinct"] == args.subscribers
        and received["recipients"] == args.subscribers,
        "ledger: every delivery sent": counts == {"sent": args.subscribers},
        "workers report every send": sent == args.subscribers,
        "baseline fully received": baseline_received["messages"] == args.baseline_messages,
    }
    peak = [w["peak_rss_mib"] for w in run["workers"]]
    # Before the first digest: editions prepared, the model loaded, the keywords embedded.
    startup_s = received["first_at"] - run["go_at"]
    steady = (received["messages"] - 1) / max(1e-9, received["last_at"] - received["first_at"])
    mean_kib = received["bytes"] / max(1, received["messages"]) / 1024
    print()
    print(
        f"digest sending, edition {DAY} (Sunday), {args.subscribers:,} subscribers, "
        f"{args.workers} worker(s), sink: {args.sink}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(f"{'':<44} {'messages':>9} {'seconds':>8} {'msgs/s':>8} {'peak MiB':>9}")
    print(
        f"{'send_edition → sink (compose+render+SMTP)':<44} {sent:>9,} {run['wall_s']:>8.1f} "
        f"{rate:>8.0f} {max(peak):>9.0f}" + (f"  (sum {sum(peak):.0f})" if len(peak) > 1 else "")
    )
    for n, worker in enumerate(run["workers"], start=1):
        print(
            f"{'  worker ' + str(n):<44} {worker['sent']:>9,} {worker['seconds']:>8.1f} "
            f"{worker['sent'] / worker['seconds']:>8.0f} {worker['peak_rss_mib']:>9.0f}"
            f"  skipped {worker['skipped']} failed {worker['failed']}"
        )
    print(
        f"  {startup_s:.1f} s to the first digest (editions, model, keyword vectors), then "
        f"{steady:,.0f} digests/s"
    )
    print(
        f"{'baseline: smtplib, one pre-rendered digest':<44} {baseline['messages']:>9,} "
        f"{baseline['seconds']:>8.1f} {baseline['per_s']:>8.0f}"
    )
    print(
        f"mean digest {mean_kib:.1f} KiB (baseline message {baseline['bytes'] / 1024:.1f} KiB); "
        f"send_edition runs at {rate / baseline['per_s']:.1%} of the baseline's rate"
    )
    for name, ok in checks.items():
        print(f"check: {name}: {'ok' if ok else 'FAILED'}")
    if not all(checks.values()):
        print(f"  sink: {received}  ledger: {counts}")
    verdict = "met" if rate >= GOAL_PER_S else "missed"
    print(f"goal ≥ {GOAL_PER_S:,} digests/s without DKIM: {verdict} ({rate:,.0f}/s)")
    projected = 100_000 / rate
    under = "<" if projected < 120 else "≥"
    print(f"100,000 digests at this rate: {projected:.0f} s ({under} 2 min)")
    if args.profile:
        print_profile(WORK / "send.prof")
    return all(checks.values())


def print_profile(path: Path, limit: int = 25) -> None:
    import pstats

    for order in ("tottime", "cumulative"):
        print(f"\n--- profile of worker 1, top {limit} by {order} ---")
        pstats.Stats(str(path)).strip_dirs().sort_stats(order).print_stats(limit)
