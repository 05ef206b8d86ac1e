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
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gzip
import json
import os
import platform
import random
import re
import secrets
import shutil
import smtplib
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
import ingest as ingest_bench  # noqa: E402  (a sibling script, not a package)

WORK = ROOT / "bench" / ".work" / "digest"
HOME = WORK / "home"
DATABASE = HOME / "paperfeed.db"
SAMPLE = WORK / "sample-digest.eml"
HF_DIR = ROOT.parent / "shared" / "data" / "B_hf_daily_papers"

DAY = date(2026, 2, 1)  # a Sunday: daily and weekly subscribers are all due
DAY_START = datetime.combine(DAY, clock_time(), UTC)
BACKFILL_AT = DAY_START - timedelta(days=60)
SIGNALS_AT = DAY_START + timedelta(hours=6)
ANNOUNCED_BY = DAY_START + timedelta(hours=20)
MODEL = "all-MiniLM-L6-v2"
PUBLIC_URL = "https://papers.example.org"
MAIL_FROM = "paperfeed <digest@papers.example.org>"
SEED = 20260201
DOMAINS = ("example.org", "example.com", "example.net")
GOAL_PER_S = 1000
VOTED_PAPERS = 150
STOPWORDS = frozenset(
    "a an and are as at be by for from in into is it its of on or over that the their this to "
    "towards toward under via with without using based through beyond can do does how is not "
    "what when where which why new large study approach method methods model models learning "
    "data framework analysis system systems task tasks towards toward more than your our all "
    "one two three multi".split()
)


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- the database -----------------------------------------------------------------------------


def engine_of():  # noqa: ANN201
    from paperfeed.storage.db import connect

    return connect(f"sqlite:///{DATABASE}")


class _Readings:
    """A source of one batch of signals, so they are stored through the real `ingest()`."""

    name = "hf-daily"

    def __init__(self, batch) -> None:  # noqa: ANN001
        self._batch = batch

    def checkpoint_key(self) -> None:
        return None

    def batches(self, checkpoint):  # noqa: ANN001, ANN201
        yield self._batch


def build_database(rebuild: bool) -> dict:
    marker = WORK / "build.json"
    if marker.exists() and not rebuild:
        return json.loads(marker.read_text())
    import sqlalchemy as sa

    from paperfeed.ingest.run import ingest
    from paperfeed.ingest.sources.bulk_file import BulkFileSource
    from paperfeed.storage.db import migrate, writing
    from paperfeed.storage.tables import papers

    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    corpus = ingest_bench.build_corpora(["83k"])["83k"]
    engine = engine_of()
    migrate(engine)
    steps = {}
    started = time.perf_counter()
    say("build: ingest the 83k arXiv records")
    source = BulkFileSource(corpus, file_format="arxiv-snapshot", batch_size=1000)
    report = ingest(source, engine, clock=lambda: BACKFILL_AT)
    steps["ingest"] = round(time.perf_counter() - started, 1)

    week_start = DAY_START - timedelta(days=6)
    with writing(engine) as conn:
        rows = conn.execute(
            sa.select(papers.c.id, papers.c.published_at).where(
                papers.c.published_at >= week_start - timedelta(days=1),
                papers.c.published_at < DAY_START + timedelta(days=1),
            )
        ).all()
        for paper_id, published_at in rows:
            seen = min(published_at.replace(tzinfo=UTC) + timedelta(hours=24), ANNOUNCED_BY)
            conn.execute(
                sa.update(papers).where(papers.c.id == paper_id).values(first_seen_at=seen)
            )
        voted = conn.execute(
            sa.select(papers.c.id)
            .where(
                papers.c.published_at >= week_start - timedelta(days=8),
                papers.c.published_at < week_start - timedelta(days=1),
            )
            .order_by(papers.c.id)
        ).scalars()
        voted = random.Random(SEED).sample(list(voted), VOTED_PAPERS)
    week = sorted(pid for pid, _ in rows)

    started = time.perf_counter()
    say(f"build: embed {len(week) + len(voted)} papers with {MODEL}")
    embed(engine, week + voted)
    steps["embed"] = round(time.perf_counter() - started, 1)

    say("build: trending readings")
    readings = write_readings(engine, week)
    engine.dispose()
    build = {
        "built_at": datetime.now(UTC).isoformat(),
        "papers": report.new,
        "announced_in_week": len(week),
        "voted_papers": voted,
        "hf_readings": readings,
        "steps": steps,
    }
    marker.write_text(json.dumps(build, indent=1))
    return build


def embed(engine, ids: list[str]) -> None:  # noqa: ANN001
    from paperfeed.search.embedder import Embedder, embedded_text, resolve_model_path, text_hash
    from paperfeed.storage import embeddings, papers
    from paperfeed.storage.db import writing

    embedder = Embedder(MODEL, resolve_model_path(MODEL, HOME / "index" / "fast-model"))
    with engine.connect() as conn:
        stored = papers.get_stored(conn, ids)
    rows, texts = [], []
    for pid in ids:
        paper = stored[pid].paper
        text = embedded_text(paper.title, paper.abstract)
        rows.append((pid, text_hash(MODEL, text), stored[pid].last_changed_at))
        texts.append(text)
    vectors = embedder.encode(texts)
    with writing(engine) as conn:
        embeddings.save_vectors(conn, MODEL, rows, vectors, datetime.now(UTC))


def recorded_days(count: int) -> list[list[int]]:
    """Final upvote counts of each entry of the last `count` recorded Hugging Face days."""
    newest = sorted(HF_DIR.glob("hf_daily_papers_api_*.jsonl.gz"))[-1]
    with gzip.open(newest, "rt") as lines:
        days = [json.loads(line) for line in lines][-count:]
    return [
        [int(e["paper"].get("upvotes") or 0) for e in day["response"] if isinstance(e, dict)]
        for day in days
    ]


def write_readings(engine, week: list[str]) -> int:  # noqa: ANN001
    from paperfeed.ingest.run import ingest
    from paperfeed.models import Batch, Signal

    rng = random.Random(SEED)
    shuffled = list(week)
    rng.shuffle(shuffled)
    fresh = iter(shuffled)
    readings = []
    for age_days, finals in enumerate(reversed(recorded_days(7))):
        listed_at = DAY_START + timedelta(hours=20) - timedelta(days=age_days)
        for final in finals:
            paper_id = next(fresh)
            at = listed_at
            while at < DAY_START + timedelta(days=1):
                hours = (at - listed_at).total_seconds() / 3600
                value = round(final * (1 - 0.5 ** (hours / 12)))
                readings.append(Signal(paper_id, "hf", "upvotes", float(value), at))
                at += timedelta(hours=2)
    report = ingest(_Readings(Batch(signals=readings)), engine, clock=lambda: SIGNALS_AT)
    return report.signals


# --- subscribers ------------------------------------------------------------------------------


def topic_vocabulary() -> tuple[list[str], list[int], list[str], list[int]]:
    """(categories, their counts, keywords, their counts) from the real corpus."""
    corpus = ingest_bench.build_corpora(["83k"])["83k"]
    categories: collections.Counter = collections.Counter()
    words: collections.Counter = collections.Counter()
    pairs: collections.Counter = collections.Counter()
    with corpus.open() as lines:
        for line in lines:
            record = json.loads(line)
            categories.update(record["categories"].split())
            tokens = re.findall(r"[a-z][a-z-]*[a-z]", record["title"].lower())
            kept = [t for t in tokens if len(t) > 3 and t not in STOPWORDS]
            words.update(set(kept))
            pairs.update(
                {f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)}
                & {f"{a} {b}" for a, b in zip(kept, kept[1:], strict=False)}
            )
    top_words = words.most_common(600)
    top_pairs = pairs.most_common(400)
    keywords = top_words + top_pairs
    # Real arXiv category names only: the corpus's lists hold a few stray ACM classes ("I.5.1;").
    cats = [(c, n) for c, n in categories.most_common() if re.fullmatch(r"[a-z-]+\.[A-Za-z-]+", c)]
    return (
        [c for c, _ in cats],
        [n for _, n in cats],
        [k for k, _ in keywords],
        [n for _, n in keywords],
    )


def ensure_subscribers(engine, count: int, voted: list[str]) -> dict:  # noqa: ANN001
    """Exactly `count` confirmed subscribers (the same ones for the same count)."""
    import sqlalchemy as sa

    from paperfeed.digest.subscriptions import preferences_from
    from paperfeed.storage.db import writing
    from paperfeed.storage.tables import deliveries, digest_feedback, sent_papers, subscribers

    with engine.connect() as conn:
        have = conn.execute(sa.select(sa.func.count()).select_from(subscribers)).scalar_one()
    marker = WORK / "subscribers.json"
    if have == count and marker.exists():
        return json.loads(marker.read_text())
    say(f"subscribers: writing {count:,}")
    categories, category_counts, keywords, keyword_counts = topic_vocabulary()
    excludes = keywords[:40]
    rng = random.Random(SEED)
    rows, votes, sent = [], [], []
    kinds: collections.Counter = collections.Counter()
    for n in range(1, count + 1):
        form: dict = {
            "frequency": "weekly" if rng.random() < 0.25 else "daily",
            "paper_count": str(rng.choice([5, 10, 10, 10, 10, 15, 20])),
            "send_hour": str(rng.randrange(24)),
        }
        if rng.random() >= 0.10:
            ncat = rng.choices([0, 1, 2, 3], [20, 40, 30, 10])[0]
            nkey = rng.choices([0, 1, 2, 3], [30, 30, 25, 15])[0]
            if ncat == nkey == 0:
                nkey = 1
            form["categories"] = sorted(set(rng.choices(categories, category_counts, k=ncat)))
            form["keywords"] = sorted(set(rng.choices(keywords, keyword_counts, k=nkey)))
            kinds["categories"] += bool(ncat)
            kinds["keywords"] += bool(nkey)
        else:
            kinds["trending only"] += 1
        if rng.random() < 0.10:
            form["exclude"] = [rng.choice(excludes)]
            kinds["exclusions"] += 1
        preferences = preferences_from(form)
        rows.append(
            {
                "id": n,
                "email": f"reader{n:06d}@{rng.choice(DOMAINS)}",
                "status": "confirmed",
                "topics": json.dumps(preferences["topics"], sort_keys=True),
                "frequency": preferences["frequency"],
                "send_hour": preferences["send_hour"],
                "time_zone": preferences["time_zone"],
                "paper_count": preferences["paper_count"],
                "link_key": secrets.token_hex(16),
                "created_at": BACKFILL_AT,
                "confirmed_at": BACKFILL_AT,
            }
        )
        kinds[preferences["frequency"]] += 1
        if rng.random() < 0.05:
            kinds["votes"] += 1
            for paper_id in rng.sample(voted, rng.randint(1, 4)):
                at = DAY_START - timedelta(days=rng.uniform(1, 6))
                value = 1 if rng.random() < 0.8 else -1
                votes.append(
                    {"subscriber_id": n, "paper_id": paper_id, "vote": value, "voted_at": at}
                )
                sent.append({"subscriber_id": n, "paper_id": paper_id, "edition_day": at.date()})
    with writing(engine) as conn:
        # The tables that refer to subscribers first: a cascade from each deleted subscriber
        # scans all of `deliveries` (its key starts with edition_day), 100,000 times over.
        for table in (deliveries, sent_papers, digest_feedback, subscribers):
            conn.execute(sa.delete(table))
        for start in range(0, len(rows), 5000):
            conn.execute(sa.insert(subscribers), rows[start : start + 5000])
        if votes:
            conn.execute(sa.insert(digest_feedback), votes)
            conn.execute(sa.insert(sent_papers), sent)
    summary = {"count": count, "kinds": dict(kinds), "distinct_keywords": len(set(keywords))}
    with engine.connect() as conn:
        topics = conn.execute(sa.select(subscribers.c.topics)).scalars()
        used = {k for t in topics for k in json.loads(t)["keywords"]}
    summary["keywords_in_use"] = len(used)
    marker.write_text(json.dumps(summary, indent=1))
    return summary


def reset_edition(engine) -> None:  # noqa: ANN001
    """Forget the previous run's sending of this edition, so every run sends it afresh."""
    import sqlalchemy as sa

    from paperfeed.storage.db import writing
    from paperfeed.storage.tables import deliveries, sent_papers

    with writing(engine) as conn:
        conn.execute(sa.delete(deliveries).where(deliveries.c.edition_day == DAY))
        conn.execute(sa.delete(sent_papers).where(sent_papers.c.edition_day == DAY))
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# --- the sink ---------------------------------------------------------------------------------


class _SinkProtocol(asyncio.Protocol):
    """Just enough ESMTP for smtplib: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, and XSTAT."""

    stats = {"messages": 0, "bytes": 0, "recipients": 0, "connections": 0}
    stats |= {"first_at": 0.0, "last_at": 0.0}
    seen: set[str] = set()
    sample_path: str | None = None

    def connection_made(self, transport) -> None:  # noqa: ANN001
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
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
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
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN202, N802
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
        def factory(self):  # noqa: ANN202
            return Counting(self.handler, enable_SMTPUTF8=True)

    controller = CountingController(Handler(), hostname="127.0.0.1", port=0)
    controller.start()
    print(controller.server.sockets[0].getsockname()[1], flush=True)
    threading.Event().wait()


class Sink:
    def __init__(self, kind: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--child-sink", kind, str(SAMPLE)],
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


# --- the sending processes --------------------------------------------------------------------


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
        command = [sys.executable, __file__, "--child-send"]
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


def ledger_counts(engine) -> dict:  # noqa: ANN001
    from paperfeed.storage import deliveries

    with engine.connect() as conn:
        return deliveries.counts(conn, DAY)


def print_profile(path: Path, limit: int = 25) -> None:
    import pstats

    for order in ("tottime", "cumulative"):
        print(f"\n--- profile of worker 1, top {limit} by {order} ---")
        pstats.Stats(str(path)).strip_dirs().sort_stats(order).print_stats(limit)


# --- main -------------------------------------------------------------------------------------


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
    if not all(checks.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
