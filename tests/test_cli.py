"""The `paperfeed` program as scripts and users run it: real processes, real files, real HTTP."""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.support.live import cli_env, run_cli
from tests.support.replay import Exchange, arxiv_api_recording, oai_interceptors


@pytest.fixture
def env(tmp_path, program_database_url):
    """The program on SQLite and on PostgreSQL."""
    return cli_env(tmp_path / "home", program_database_url)


@pytest.fixture
def sqlite_env(tmp_path):
    """For what only SQLite has (its database file) or what needs no database at all."""
    return cli_env(tmp_path / "home")


def _all_commands():
    from paperfeed.cli import cli

    def walk(group, path):
        for name, command in group.commands.items():
            yield [*path, name]
            if hasattr(command, "commands"):
                yield from walk(command, [*path, name])

    return list(walk(cli, []))


def test_every_command_has_help(sqlite_env):
    # The installed program answers --help (one process each for the root and a nested command);
    # every command's help is then read in one more process through the same click tree (a
    # process per command cost 1.5 s each, 96 s in all; in this process, click would cache
    # help options that the docs generator then reads differently).
    for path in ([], ["subscribers", "mute"]):
        result = run_cli(*path, "--help", env=sqlite_env)
        assert result.returncode == 0, (path, result.stderr)
        assert "Usage: " in result.stdout
    script = """
import json, sys
from click.testing import CliRunner
from paperfeed.cli import cli
runner = CliRunner()
answers = {}
for path in json.loads(sys.argv[1]):
    result = runner.invoke(cli, [*path, "--help"])
    answers[" ".join(path)] = [result.exit_code, result.output]
print(json.dumps(answers))
"""
    commands = _all_commands()
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(commands)],
        env=sqlite_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)
    assert len(answers) == len(commands)
    for path, (exit_code, output) in answers.items():
        assert exit_code == 0, (path, output)
        assert "Usage: " in output and output.count("\n") > 2, path


def test_stats_json_on_a_new_home_counts_zero_papers(env):
    result = run_cli("stats", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["papers"] == 0


def test_file_ingest_then_list_and_show_follow_the_json_contract(env, shared_data):
    month = shared_data / "C_arxiv_metadata_corpus" / "daydayarxiv_csAI_2024-01.jsonl.gz"
    result = run_cli("ingest", "file", str(month), "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    with gzip.open(month, "rt") as lines:
        total = sum(1 for _ in lines)
    assert report["new"] + report["failed"] == total and report["new"] > 0.99 * total

    listed = json.loads(run_cli("papers", "list", "--limit", "50", "--json", env=env).stdout)
    assert len(listed) == 50
    dates = [p["published_at"] for p in listed]
    assert dates == sorted(dates, reverse=True)

    first = json.loads(gzip.open(month, "rt").readline())
    shown = run_cli("papers", "show", first["arxiv_id"], "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    paper = json.loads(shown.stdout)
    assert paper["id"] == first["arxiv_id"].rsplit("v", 1)[0]
    assert paper["title"] == " ".join(first["title"].split())
    assert paper["authors"] == first["authors"]
    assert paper["categories"] == first["categories"]
    assert paper["abstract"].split()[:5] == first["abstract"].split()[:5]
    assert paper["versions"][-1]["version"] == int(first["arxiv_id"].rsplit("v", 1)[1])
    assert json.loads(run_cli("stats", "--json", env=env).stdout)["papers"] == report["new"]

    again = json.loads(run_cli("ingest", "file", str(month), "--json", env=env).stdout)
    assert (again["new"], again["updated"]) == (0, 0)


@pytest.mark.parametrize(
    ("args", "extra_env", "message"),
    [
        (["papers", "show", "2409.99999"], {}, "error: no paper with id '2409.99999'"),
        (["ingest", "file", "/nonexistent/papers.jsonl"], {}, "error: no such file"),
        (["ingest", "file", "x.jsonl", "--format", "yaml"], {}, "error: unknown format 'yaml'"),
        (["ingest", "arxiv-api"], {}, "error: give either arXiv ids or --query"),
        (["stats"], {"PAPERFEED_PORT": "eighty"}, "error: port (PAPERFEED_PORT)"),
        (["stats"], {"PAPERFEED_DATABASE_URL": "mysql://x/y"}, "error: unsupported database"),
        (
            ["stats"],
            {"PAPERFEED_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/x"},
            "error: cannot open the database",
        ),
        (
            ["stats"],
            {"PAPERFEED_HOME": "/proc/paperfeed"},
            "error: cannot create the data directory",
        ),
        (
            ["ingest", "hf-daily", "--endpoint", "ftp://mirror"],
            {},
            "error: hf_endpoint (flag): must start with http:// or https://",
        ),
    ],
)
def test_user_errors_exit_non_zero_with_one_line_and_no_traceback(
    sqlite_env, args, extra_env, message
):
    result = run_cli(*args, env={**sqlite_env, **extra_env})
    assert result.returncode == 1
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_database_from_a_newer_paperfeed_is_refused(sqlite_env, tmp_path):
    assert run_cli("stats", env=sqlite_env).returncode == 0
    with sqlite3.connect(tmp_path / "home" / "paperfeed.db") as conn:
        conn.execute("update alembic_version set version_num = 'm9999'")
    for args in (["stats"], ["db", "migrate"]):
        result = run_cli(*args, env=sqlite_env)
        assert result.returncode == 1
        assert "written by a newer version; upgrade paperfeed" in result.stderr


@pytest.mark.slow  # loads and embeds the demo corpus twice
def test_demo_loads_real_papers_with_upvotes_and_twice_changes_nothing(env):
    first = run_cli("demo", "--no-serve", env=env)
    assert first.returncode == 0, first.stderr
    stats = json.loads(run_cli("stats", "--json", env=env).stdout)
    assert stats["papers"] >= 400 and stats["signals"] >= 300
    second = run_cli("demo", "--no-serve", env=env)
    assert " 0 new, 0 updated" in second.stderr
    assert json.loads(run_cli("stats", "--json", env=env).stdout)["papers"] == stats["papers"]


def test_network_ingest_commands_take_an_endpoint(env, replay_server, shared_data, test_data):
    fast = {**env, "PAPERFEED_ARXIV_MIN_INTERVAL_S": "0", "PAPERFEED_HF_MIN_INTERVAL_S": "0"}
    day = shared_data / "B_hf_daily_papers" / "raw_daily_papers_responses"
    body = (day / "daily_papers_2026-08-03.json").read_text()
    replay_server.queue(None, Exchange(200, body, [("Content-Type", "application/json")]))
    result = run_cli(
        "ingest",
        "hf-daily",
        "--date",
        "2026-08-03",
        "--endpoint",
        replay_server.url,
        "--json",
        env=fast,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["new"] == len(json.loads(body))
    assert replay_server.requests[0].startswith("/api/daily_papers?")

    recording = shared_data / "A_arxiv_fixtures" / "oaipmh_arxiv_recorded_2018"
    _path, ok = oai_interceptors(recording / "listrecords_list-identifiers-from-arxiv.json")[1]
    replay_server.queue(None, ok)
    result = run_cli(
        "ingest",
        "arxiv-oai",
        "--from",
        "2015-01-01",
        "--until",
        "2015-01-03",
        "--endpoint",
        replay_server.url + "/oai2",
        "--json",
        env=fast,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["new"] >= 1

    listing = (test_data / "listing" / "rss_cs.LG_2024-01-10.xml").read_bytes()
    replay_server.queue("/rss/cs.LG", Exchange(200, listing, [("Content-Type", "text/xml")]))
    result = run_cli(
        "ingest", "arxiv-listing", "cs.LG", "--endpoint", replay_server.url, "--json", env=fast
    )
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert listed["new"] + listed["updated"] >= 1 and listed["failed"] == 0
    assert any("cs.LG" in note for note in listed["notes"])

    path, answer = arxiv_api_recording(
        shared_data
        / "A_arxiv_fixtures"
        / "arxiv_api_atom_recorded_2026"
        / "id_abc_s0_m100_b79c8dcf6bc3.json"
    )
    replay_server.queue(None, answer)
    result = run_cli(
        "ingest", "arxiv-api", "abc", "--endpoint", replay_server.url + "/api/query", env=fast
    )
    assert result.returncode == 1
    assert "incorrect id format for abc" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("stop", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)
def test_interrupted_file_ingest_resumes_where_it_stopped(
    sqlite_env, tmp_path, shared_data, stop, exit_code
):
    corpus = _months_of_arxiv(shared_data, tmp_path, 12)
    total = sum(1 for _ in corpus.open("rb"))
    database = tmp_path / "home" / "paperfeed.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "ingest", "file", str(corpus)],
        env={**sqlite_env, "PAPERFEED_INGEST_BATCH_SIZE": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as at a terminal, even when the tests themselves run in the background (where
        # the shell starts them with SIGINT ignored, which the child would inherit).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    _wait_for_a_stored_batch(database)
    process.send_signal(stop)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == exit_code, err
    with sqlite3.connect(database) as conn:
        stored_before = conn.execute("select count(*) from papers").fetchone()[0]
        status = conn.execute("select status from ingest_runs order by id desc").fetchone()[0]
    assert status == "interrupted", err
    assert 0 < stored_before < total

    resumed = run_cli("ingest", "file", str(corpus), "--json", env=sqlite_env)
    report = json.loads(resumed.stdout)
    # The corpus has one record per distinct id, and the checkpoint is committed with its
    # batch: the rerun starts exactly after the last stored record and re-reads none.
    assert report["unchanged"] == 0 and report["updated"] == 0
    assert stored_before + report["new"] + report["failed"] == total
    papers = json.loads(run_cli("stats", "--json", env=sqlite_env).stdout)["papers"]
    assert papers == total - report["failed"]


def test_a_killed_ingest_reads_interrupted_with_what_it_stored_and_check_says_so(
    sqlite_env, tmp_path, shared_data
):
    """SIGKILL leaves no chance to record anything: the run's row says "running". Its process
    is gone, so `status` reads it as interrupted with the counts of the batches it committed,
    `status --check` fails naming it, and the next ingest records it so."""
    corpus = _months_of_arxiv(shared_data, tmp_path, 6)
    database = tmp_path / "home" / "paperfeed.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "ingest", "file", str(corpus)],
        env={**sqlite_env, "PAPERFEED_INGEST_BATCH_SIZE": "200"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_a_stored_batch(database)
    process.kill()
    process.wait(timeout=30)
    with sqlite3.connect(database) as conn:
        stored = conn.execute("select count(*) from papers").fetchone()[0]
        (raw_status,) = conn.execute("select status from ingest_runs").fetchone()
    assert raw_status == "running" and stored > 0

    checked = run_cli("status", "--json", "--check", env=sqlite_env)
    assert checked.returncode == 1
    [run] = json.loads(checked.stdout)["ingest_runs"]
    assert (run["status"], run["new"]) == ("interrupted", stored)
    assert f"ingest run 1 (jsonl) interrupted after storing {stored} new papers" in checked.stderr

    resumed = run_cli("ingest", "file", str(corpus), "--json", env=sqlite_env)
    assert resumed.returncode == 0, resumed.stderr
    with sqlite3.connect(database) as conn:
        rows = conn.execute("select status, new from ingest_runs order by id").fetchall()
    assert rows[0] == ("interrupted", stored)
    assert rows[1][0] == "done"
    assert run_cli("status", "--check", env=sqlite_env).returncode == 0


def _months_of_arxiv(shared_data, tmp_path, months: int):
    """One JSON-lines file of the first `months` months of the arXiv metadata corpus."""
    corpus = tmp_path / "corpus.jsonl"
    with corpus.open("wb") as out:
        for path in sorted((shared_data / "C_arxiv_metadata_corpus").glob("*.jsonl.gz"))[:months]:
            with gzip.open(path) as lines:
                shutil.copyfileobj(lines, out)
    return corpus


def _wait_for_a_stored_batch(database, timeout_s: float = 60) -> None:
    """Until a running ingest has committed a batch (its checkpoint row exists)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if database.exists():
            try:
                # A short timeout: a poll must not sit out the run waiting on a lock.
                with sqlite3.connect(database, timeout=0.1) as conn:
                    if conn.execute("select count(*) from checkpoints").fetchone()[0]:
                        return
            except sqlite3.OperationalError:
                continue
