"""Web load: requests/s and p50/p99 latency of the real `paperfeed serve` on the 83k corpus.

    .venv/bin/python bench/web_load.py                    # builds once (about 3 minutes), then
                                                          # about 2 minutes of load
    .venv/bin/python bench/web_load.py --rounds 2         # the whole set twice, to see the noise
    .venv/bin/python bench/web_load.py --duration 5 --connections 32 --only /,/api/trending
    .venv/bin/python bench/web_load.py --rebuild          # build the database again

Needs Debian's `wrk` (`apt-get install wrk`) and `taskset`; the server and wrk are each pinned to
one core (--server-cpu, --client-cpu).

The database (bench/.work/web/home-83k/, kept across runs; --rebuild starts it again), built by
the real CLI in child processes:
1. `paperfeed ingest file --format arxiv-snapshot`: the 83,426 real records (the snapshot file
   bench/ingest.py writes);
2. `paperfeed ingest file --format hf-daily`: the 580 recorded Hugging Face daily-papers days
   (2024-05-27 to 2026-08-21), with their upvote, comment and star readings; their papers that
   are not among the 83k make 90,288 papers in all;
3. `paperfeed index` with `embedding_model = fast`: keyword index, fast-model vectors of every
   paper, HNSW. MiniLM embeds about 25 papers/s here (an hour for 83k), so search runs hybrid
   with the fast model, as bench/search_speed.py does.

Engagement, written again before every run because it must be fresh relative to the real clock
(the server's clock is the wall clock; nothing is faked in the server):
- views: --views (20,000) paper_views rows spread uniformly over the last 7 days, over 5,000
  random papers with Zipf(1.1) popularity, one distinct visitor each;
- upvotes: the last 7 recorded Hugging Face days replayed onto today and the 6 days before: each
  recorded entry's final upvote count goes to a random corpus paper that has no Hugging Face
  history, as `hf` readings every 2 hours from its listing until now, rising as
  final × (1 − 0.5^(hours since listing / 12)).
The previous run's views and every reading newer than the archive are deleted first.

Load, per endpoint: a --warmup run (discarded), then --duration seconds of
`wrk -t1 -c<connections>`, with a browser User-Agent. Paper pages request 1,000 papers (the
trending ones first, then random) with an X-Forwarded-For drawn from 1,000 addresses (uvicorn
trusts it from 127.0.0.1, as behind a reverse proxy), and every wrk run draws with its own
seed, so almost every request is a new visitor's first view of that paper today: each one
writes a view, the worst case. Papers not requested in the warm-up are cold in the server's
caches. Searches draw from bench/speed_corpus.py's 300 measured queries (rare words, common
words, title words). The baseline in the same run is a static file: Starlette's StaticFiles,
which stats and reads the file in the thread pool, so it is a ceiling for pages that make one
thread-pool call, not for the framework alone (/api/trending, served from memory, goes faster).
Per endpoint the table shows the server's CPU use, anything else that ran on its core
("other": other programs, the kernel) and wrk's CPU use, from /proc and rusage; "other" above
a few percent means the run was disturbed.

After the load: how long a new view takes to show in /api/trending (the trending cache's
freshness), measured by viewing the top paper as 3 new visitors and polling; and how many
views the paper pages stored, read from the database once the server has stopped.

Before/after: --code DIR serves the paperfeed package in DIR instead (a copy of the tree with
the change undone); the database and engagement are the same.

Results are printed as a table with met/missed per goal and merged into
bench/.work/web/results.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import speed_corpus  # noqa: E402  (a sibling script, not a package)
from common import HF_DIR, free_port, package_versions, recorded_days, say  # noqa: E402

WORK = ROOT / "bench" / ".work" / "web"
HOME = WORK / "home-83k"
RESULTS = WORK / "results.json"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SEED = 20261201
VIEWED_PAPERS = 5_000
ENGAGEMENT_DAYS = 7
PAPER_POOL = 1_000
ADDRESS_POOL = 1_000

# (requests/s at least, p99 ms at most); None: no goal set, reported only.
GOALS = {
    "/": (1000, 50),
    "/papers/{id}": (1000, 50),
    "/search?q=…": (200, 100),
    "/api/trending": (1000, 50),
    "/trending.atom": None,
    "/static/paperfeed.css": None,
}
ENDPOINTS = tuple(GOALS)


# --- the database -----------------------------------------------------------------------------


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERFEED_")}
    env |= {
        "PAPERFEED_HOME": str(HOME),
        "PAPERFEED_EMBEDDING_MODEL": "fast",
        "PAPERFEED_LOG_LEVEL": "WARNING",
    }
    return env


def run_cli(*args: str) -> dict:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "paperfeed", *args],
        env=cli_env(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"paperfeed {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return {"seconds": round(time.perf_counter() - started, 1), "stdout": done.stdout.strip()}


def build_database(rebuild: bool) -> dict:
    marker = HOME / "build.json"
    if marker.exists() and not rebuild:
        return json.loads(marker.read_text())
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    corpus = speed_corpus.base_corpus()
    hf_files = sorted(str(p) for p in HF_DIR.glob("hf_daily_papers_api_*.jsonl.gz"))
    steps = {}
    say("build: ingest the 83k arXiv records")
    steps["ingest arXiv"] = run_cli("ingest", "file", "--format", "arxiv-snapshot", str(corpus))
    say("build: ingest the Hugging Face daily-papers archive")
    steps["ingest HF"] = run_cli("ingest", "file", "--format", "hf-daily", *hf_files)
    say("build: paperfeed index (fast model: distil, embed, keyword index, HNSW)")
    steps["index"] = run_cli("index", "--json")
    database = HOME / "paperfeed.db"
    conn = sqlite3.connect(database)
    papers = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    archive_end = conn.execute("SELECT max(observed_at) FROM signals").fetchone()[0]
    conn.close()
    build = {
        "built_at": datetime.now(UTC).isoformat(),
        "papers": papers,
        "archive_end": archive_end,
        "steps": {name: step["seconds"] for name, step in steps.items()},
        "index": json.loads(steps["index"]["stdout"]),
    }
    marker.write_text(json.dumps(build, indent=1))
    return build


def write_engagement(now: datetime, views: int, archive_end: str) -> dict:
    """Replace the synthetic engagement with a fresh one ending at `now` (see the docstring)."""
    import sqlalchemy as sa

    from paperfeed.models import Signal
    from paperfeed.storage import signals as signal_store
    from paperfeed.storage.db import connect, writing
    from paperfeed.storage.tables import paper_views, papers, signals

    rng = random.Random(SEED)
    engine = connect(f"sqlite:///{HOME / 'paperfeed.db'}")
    with writing(engine) as conn:
        conn.execute(sa.delete(paper_views))
        newer = signals.c.observed_at > datetime.fromisoformat(archive_end)
        conn.execute(sa.delete(signals).where(newer))
        ids = sorted(conn.execute(sa.select(papers.c.id)).scalars())
        with_hf = set(
            conn.execute(sa.select(signals.c.paper_id).where(signals.c.source == "hf")).scalars()
        )
        rng.shuffle(ids)
        viewed = ids[:VIEWED_PAPERS]
        weights = [1 / (rank**1.1) for rank in range(1, len(viewed) + 1)]
        picks = rng.choices(viewed, weights, k=views)
        rows = []
        for paper_id in picks:
            at = now - timedelta(seconds=rng.uniform(0, ENGAGEMENT_DAYS * 86_400))
            rows.append(
                {
                    "paper_id": paper_id,
                    "day": at.date(),
                    "visitor": f"{rng.getrandbits(128):032x}",
                    "viewed_at": at,
                }
            )
        conn.execute(sa.insert(paper_views), rows)

        fresh = (pid for pid in ids[VIEWED_PAPERS:] if pid not in with_hf)
        readings = []
        for age_days, finals in enumerate(reversed(recorded_days(ENGAGEMENT_DAYS))):
            listed_at = now - timedelta(days=age_days, hours=23)
            for final in finals:
                paper_id = next(fresh)
                at = listed_at
                while at <= now:
                    hours = (at - listed_at).total_seconds() / 3600
                    value = round(final * (1 - 0.5 ** (hours / 12)))
                    readings.append(Signal(paper_id, "hf", "upvotes", float(value), at))
                    at += timedelta(hours=2)
        stored = signal_store.insert_signals(conn, readings)
    engine.dispose()
    return {"views": len(rows), "viewed_papers": len(set(picks)), "hf_readings": stored}


# --- the server and wrk -----------------------------------------------------------------------


class Server:
    """`paperfeed serve` pinned to one core, on a free port."""

    def __init__(self, cpu: str, code: Path = ROOT) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (WORK / "server.log").open("w")
        command = ["taskset", "-c", cpu, sys.executable, "-m", "paperfeed"]
        self.process = subprocess.Popen(
            [*command, "serve", "--port", str(self.port)],
            env=cli_env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=code,  # `-m paperfeed` imports the package found here first
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited; see {WORK / 'server.log'}")
            try:
                if httpx.get(self.url + "/static/paperfeed.css", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit("the server did not start in 120 s")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


LUA = """
local paths = {%(paths)s}
local addresses = %(addresses)d
local agent = "%(agent)s"
local counter = 0
math.randomseed(%(seed)d)

request = function()
  local path = paths[math.random(#paths)]
  local headers = {["User-Agent"] = agent}
  if addresses > 0 then
    local n = math.random(addresses)
    headers["X-Forwarded-For"] = "10.1." .. math.floor(n / 256) .. "." .. (n %% 256)
  end
  return wrk.format("GET", path, headers)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nRESULT {"requests": %%d, "duration_us": %%d, "bytes": %%d, "connect": %%d, "read": %%d, ' ..
    '"write": %%d, "status": %%d, "timeout": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
"""


def lua_script(name: str, paths: list[str], addresses: int, seed: int) -> Path:
    """A wrk script drawing from `paths`; each run gets its own seed, so a measured run does
    not replay its warm-up's (paper, visitor) pairs as repeat views."""
    folder = WORK / "lua"
    folder.mkdir(parents=True, exist_ok=True)
    listed = ", ".join(json.dumps(p) for p in paths)
    path = folder / f"{name}.lua"
    path.write_text(LUA % {"paths": listed, "addresses": addresses, "agent": BROWSER, "seed": seed})
    return path


def cpu_busy_s(cpu: str) -> float:
    """Seconds core `cpu` has been busy (anything but idle and iowait) since boot."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            ticks = [int(v) for v in line.split()[1:]]
            return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    raise SystemExit(f"no cpu{cpu} in /proc/stat")


def run_wrk(url: str, script: Path, *, seconds: int, connections: int, cpu: str) -> dict:
    command = [
        "taskset", "-c", cpu, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
        "--timeout", "10s", "-s", str(script), url,
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed: {done.stdout}\n{done.stderr}")
    result = json.loads(lines[-1][len("RESULT ") :])
    result["client_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def endpoint_paths(name: str, server: Server, queries: list[str]) -> tuple[list[str], int]:
    """The request paths wrk draws from for an endpoint, and the X-Forwarded-For pool."""
    if name == "/papers/{id}":
        trending = httpx.get(server.url + "/api/trending?limit=100", timeout=30).json()
        top = [p["id"] for p in trending["papers"]]
        page = httpx.get(server.url + "/api/papers?limit=1000&offset=5000", timeout=30).json()
        ids = list(dict.fromkeys(top + [p["id"] for p in page["papers"]]))[:PAPER_POOL]
        return [f"/papers/{quote(pid, safe='')}" for pid in ids], ADDRESS_POOL
    if name == "/search?q=…":
        return [f"/search?q={quote_plus(q)}" for q in queries], 0
    return [name], 0


_seeds = itertools.count(SEED)


def measure_endpoint(server: Server, name: str, paths: list[str], addresses: int, args) -> dict:
    stem = name.strip("/").replace("/", "_").replace("?q=…", "") or "home"
    options = {"connections": args.connections, "cpu": args.client_cpu}
    warmup_requests = 0
    if args.warmup:
        script = lua_script(stem, paths, addresses, next(_seeds))
        warmup_requests = run_wrk(server.url, script, seconds=args.warmup, **options)["requests"]
    script = lua_script(stem, paths, addresses, next(_seeds))
    cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
    core_before = cpu_busy_s(args.server_cpu)
    result = run_wrk(server.url, script, seconds=args.duration, **options)
    wall = time.monotonic() - wall_before
    result["server_cpu"] = (server.cpu_seconds() - cpu_before) / wall
    # What else ran on the server's core (other programs, the kernel's network work).
    other = (cpu_busy_s(args.server_cpu) - core_before) / wall - result["server_cpu"]
    result["other_cpu"] = max(0.0, other)  # tick rounding can make it a hair below zero
    result["client_cpu"] = result.pop("client_cpu_s") / wall
    seconds = result["duration_us"] / 1e6
    errors = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    result |= {
        "endpoint": name,
        "warmup_requests": warmup_requests,
        "rps": result["requests"] / seconds,
        "p50_ms": result["p50_us"] / 1000,
        "p90_ms": result["p90_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "errors": errors,
        "kib_per_request": result["bytes"] / max(1, result["requests"]) / 1024,
    }
    goal = GOALS[name]
    result["goal_met"] = None if goal is None else (
        result["rps"] >= goal[0] and result["p99_ms"] <= goal[1] and errors == 0
    )  # fmt: skip
    return result


def trending_delay(server: Server, timeout_s: float = 60) -> float | None:
    """Seconds until 3 new views of the top trending paper show in /api/trending."""

    def views_of(paper_id: str) -> float:
        listing = httpx.get(server.url + "/api/trending", timeout=30).json()
        for paper in listing["papers"]:
            if paper["id"] == paper_id:
                parts = paper["trending"]["parts"]
                return sum(p["gained"] for p in parts if p["kind"] == "views")
        return -1.0

    top = httpx.get(server.url + "/api/trending", timeout=30).json()["papers"][0]["id"]
    before = views_of(top)
    started = time.monotonic()
    for n in range(3):
        headers = {"User-Agent": BROWSER, "X-Forwarded-For": f"192.0.2.{n + 1}"}
        httpx.get(f"{server.url}/papers/{top}", headers=headers, timeout=30).raise_for_status()
    while time.monotonic() - started < timeout_s:
        if views_of(top) >= before + 1:
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def views_since(start: datetime) -> int:
    """Views stored at or after `start` (after the server has stopped, so all are written)."""
    conn = sqlite3.connect(HOME / "paperfeed.db")
    since = start.replace(tzinfo=None).isoformat(sep=" ")
    count = conn.execute("SELECT count(*) FROM paper_views WHERE viewed_at >= ?", (since,))
    found = count.fetchone()[0]
    conn.close()
    return found


# --- the report -------------------------------------------------------------------------------


def goal_text(name: str) -> str:
    goal = GOALS[name]
    if goal is None:
        return "baseline" if name.startswith("/static") else "no goal set"
    return f"≥ {goal[0]:,}/s, p99 ≤ {goal[1]} ms"


def print_table(results: list[dict], label: str) -> None:
    """One row per endpoint; "× base" is its req/s over the static file's in the same run, which
    moves less than req/s when the machine's speed drifts between runs."""
    base = next((r["rps"] for r in results if r["endpoint"] == "/static/paperfeed.css"), None)
    print(f"\n{label}")
    print(
        f"{'endpoint':<24} {'goal':<22} {'req/s':>7} {'× base':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'errors':>6} {'KiB':>5} {'server':>6} {'other':>5} {'wrk':>5}  verdict"
    )
    for r in results:
        verdict = {True: "met", False: "MISSED", None: ""}[r["goal_met"]]
        ratio = f"{r['rps'] / base:>6.2f}" if base else f"{'':>6}"
        print(
            f"{r['endpoint']:<24} {goal_text(r['endpoint']):<22} {r['rps']:>7,.0f} {ratio} "
            f"{r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['errors']:>6} "
            f"{r['kib_per_request']:>5.1f} {r['server_cpu']:>6.0%} {r['other_cpu']:>5.0%} "
            f"{r['client_cpu']:>5.0%}  {verdict}"
        )


def environment() -> dict:
    versions = package_versions(
        ("uvicorn", "starlette", "uvloop", "httptools", "jinja2", "sqlalchemy", "orjson")
    )
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "wrk": (wrk.stdout or wrk.stderr).split("\n")[0],
        "versions": versions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=int, default=3, help="discarded seconds before each")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (-c)")
    parser.add_argument("--rounds", type=int, default=1, help="measure every endpoint N times")
    parser.add_argument("--only", help="comma-separated endpoints, as named in the table")
    parser.add_argument("--views", type=int, default=20_000, help="synthetic views (7 days)")
    parser.add_argument("--server-cpu", default="0", help="core for the server (taskset -c)")
    parser.add_argument("--client-cpu", default="1", help="core for wrk (taskset -c)")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--label", default="", help="a note stored with the results")
    parser.add_argument(
        "--code",
        type=Path,
        default=ROOT,
        help="serve the paperfeed package in this folder (a before/after comparison)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        raise SystemExit("needs wrk and taskset: apt-get install wrk util-linux")
    names = [n.strip() for n in args.only.split(",")] if args.only else list(ENDPOINTS)
    if unknown := set(names) - set(ENDPOINTS):
        raise SystemExit(f"unknown endpoints {sorted(unknown)}; choose from {ENDPOINTS}")
    names.sort(key=lambda n: n != "/static/paperfeed.css")  # the baseline first

    WORK.mkdir(parents=True, exist_ok=True)
    build = build_database(args.rebuild)
    say(f"database: {build['papers']:,} papers, built {build['built_at'][:16]}")
    engagement = write_engagement(datetime.now(UTC), args.views, build["archive_end"])
    say(
        f"engagement: {engagement['views']:,} views of {engagement['viewed_papers']:,} papers, "
        f"{engagement['hf_readings']:,} upvote readings, over the last {ENGAGEMENT_DAYS} days"
    )
    classes = speed_corpus.build_queries()["classes"]
    queries = [q for name in ("rare", "common", "multi") for q in classes[name]["measured"]]

    served_from = datetime.now(UTC)
    server = Server(args.server_cpu, args.code.resolve())
    rounds = []
    try:
        started = time.perf_counter()
        httpx.get(server.url + "/search?q=warm", timeout=120).raise_for_status()  # open indexes
        say(f"first search (opens the indexes) {time.perf_counter() - started:.1f} s")
        pools = {name: endpoint_paths(name, server, queries) for name in names}
        for n in range(args.rounds):
            results = []
            for name in names:
                say(f"round {n + 1}: {name}")
                results.append(measure_endpoint(server, name, *pools[name], args))
            rounds.append(results)
            print_table(results, f"Round {n + 1} of {args.rounds}")
        delay = trending_delay(server)
        rss = server.rss_mib()
    finally:
        server.stop()
    views = views_since(served_from)
    paper_requests = sum(
        r["requests"] + r["warmup_requests"]
        for results in rounds
        for r in results
        if r["endpoint"] == "/papers/{id}"
    )

    print(
        f"\n{build['papers']:,} papers; {engagement['views']:,} synthetic views and "
        f"{engagement['hf_readings']:,} upvote readings in the last {ENGAGEMENT_DAYS} days; "
        f"wrk -t1 -c{args.connections}, {args.duration:g} s per endpoint after {args.warmup:g} s "
        f"of warm-up; server on cpu {args.server_cpu}, wrk on cpu {args.client_cpu}"
    )
    print(
        "a new view shows in /api/trending after "
        + (f"{delay:.1f} s" if delay is not None else "more than 60 s (MISSED)")
        + f"; server resident memory at the end {rss:,.0f} MiB"
    )
    if paper_requests:
        print(
            f"paper-page views stored: {views:,}; wrk completed {paper_requests:,} paper-page "
            "requests, warm-ups included (the server also counts those in flight when wrk stops)"
        )
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": []}
    results["runs"].append(
        {
            "measured_at": datetime.now(UTC).isoformat(),
            "label": args.label,
            "options": vars(args),
            "environment": environment(),
            "build": build,
            "engagement": engagement,
            "rounds": rounds,
            "trending_delay_s": delay,
            "views_stored": views,
            "paper_requests": paper_requests,
            "server_rss_mib": rss,
        }
    )
    RESULTS.write_text(json.dumps(results, indent=1, default=str))
    print(f"results: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
