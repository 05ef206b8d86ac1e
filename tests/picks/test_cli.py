"""`paperfeed picks --batch` as a user runs it: a real process over a real SQLite database."""

import json

import pytest

from tests.picks.conftest import CHINESE_MIXTRAL, LEGAL_CASES, LEGAL_INDIA, PARAMANU, PEACOCK
from tests.support.live import cli_env, run_cli


@pytest.fixture(scope="module")
def env(tmp_path_factory, test_data):
    env = cli_env(tmp_path_factory.mktemp("home"))
    loaded = run_cli("ingest", "file", str(test_data / "search" / "papers.jsonl"), env=env)
    assert loaded.returncode == 0, loaded.stderr
    indexed = run_cli("index", env=env)  # the real model's vectors, as a site has them
    assert indexed.returncode == 0, indexed.stderr
    return env


def test_batch_ranks_each_readers_candidates_and_reports_bad_lines(env, tmp_path, all_ids):
    batch = tmp_path / "readers.jsonl"
    lines = [
        {"id": "r1", "library": [PEACOCK + "v2", CHINESE_MIXTRAL], "candidates": all_ids},
        "not json",
        {"id": "r2", "liked": [LEGAL_INDIA], "candidates": all_ids, "extra": "ignored"},
        {"id": "r3", "topics": "cs.CR, author:Nobody", "candidates": [*all_ids, "2999.00001"]},
        {"id": "r4", "library": [PEACOCK]},
    ]
    batch.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    done = run_cli("picks", "--batch", str(batch), "--limit", "10", env=env)
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["id"] for o in out] == ["r1", None, "r2", "r3", None]
    first = out[0]["results"]
    assert len(first) == 10 and {"id", "score", "why"} == set(first[0])
    assert PARAMANU in [r["id"] for r in first]
    assert all("v" not in r["id"] for r in first)  # ids without version
    assert out[2]["results"][0]["id"] == LEGAL_CASES
    assert "you liked" in out[2]["results"][0]["why"]
    assert out[3]["results"][0]["why"].startswith("New in cs.CR")
    assert out[3]["missing"] == ["2999.00001"]  # not in the database: said, not ranked
    assert "line 2" in out[1]["error"] and "candidates" in out[4]["error"]


def test_picks_needs_an_email_or_a_batch(env):
    done = run_cli("picks", env=env)
    assert done.returncode == 1
    assert "give an EMAIL or --batch FILE" in done.stderr
