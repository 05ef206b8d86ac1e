"""`paperfeed index`, `search` and `similar` as a user runs them: real processes, real model."""

import json

import pytest

from tests.support.live import cli_env, run_cli


@pytest.fixture(scope="module")
def env(tmp_path_factory, test_data, module_database_url):
    env = cli_env(tmp_path_factory.mktemp("home"), module_database_url)
    loaded = run_cli("ingest", "file", str(test_data / "search" / "papers.jsonl"), env=env)
    assert loaded.returncode == 0, loaded.stderr
    return env


def test_index_embeds_once_and_reports_its_rate(env):
    first = run_cli("index", env=env)
    assert first.returncode == 0, first.stderr
    assert "embedded 65 papers" in first.stdout and "papers/s" in first.stdout
    assert "keyword index: 65 papers" in first.stdout
    again = run_cli("index", "--json", env=env)
    summary = json.loads(again.stdout)
    assert (summary["embedded"], summary["vector_index_papers"]) == (0, 65)


def test_search_json_gives_ids_titles_and_scores(env):
    run_cli("index", env=env)
    done = run_cli("search", "prompt injection attacks", "--json", "--limit", "5", env=env)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results[0]["id"] == "2403.04957"  # no version suffix
    assert {"id", "title", "score", "why", "snippet"} <= set(results[0])
    keyword = json.loads(run_cli("search", "graph", "--mode", "keyword", "--json", env=env).stdout)
    assert all(r["why"]["semantic_rank"] is None for r in keyword)


def test_batch_search_answers_every_line_and_reports_bad_ones(env, tmp_path):
    batch = tmp_path / "queries.jsonl"
    batch.write_text(
        '{"id": "q1", "query": "legal text analytics in India"}\n'
        "not json\n"
        '{"id": "q2", "query": "ultrasound denoising"}\n'
    )
    done = run_cli("search", "--batch", str(batch), "--mode", "hybrid", "--limit", "3", env=env)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["q1", None, "q2"]
    assert lines[0]["results"][0]["id"] == "2403.10944"
    assert "line 2" in lines[1]["error"]
    assert lines[2]["results"][0]["id"] == "2403.02750"


def test_similar_to_papers_or_text(env):
    run_cli("index", env=env)
    done = run_cli("similar", "2403.04957v1", "--json", "--limit", "3", env=env)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert len(results) == 3 and "2403.04957" not in [r["id"] for r in results]
    text = run_cli("similar", "--text", "Long-form factuality in large language models", env=env)
    assert "2403.18802" in text.stdout.splitlines()[1]
    unknown = run_cli("similar", "1234.56789", env=env)
    assert unknown.returncode == 1 and "no paper with id 1234.56789" in unknown.stderr


def test_a_model_that_cannot_load_is_a_clear_error_and_search_still_works(env, tmp_path):
    broken = run_cli("index", "--model", str(tmp_path / "missing-model"), env=env)
    assert broken.returncode == 1
    assert "cannot load embedding model" in broken.stderr
    search = run_cli(
        "search", "fact verification", "--model", str(tmp_path / "missing-model"), env=env
    )
    assert search.returncode == 0
    assert "note: semantic search is off" in search.stdout
    assert "2403.08174" in search.stdout


def test_removed_papers_disappear_from_search(env):
    run_cli("index", env=env)
    assert "2403.19883" in run_cli("search", "policy-space search", "--json", env=env).stdout
    removed = run_cli("papers", "remove", "2403.19883", env=env)
    assert "removed 1 of 1" in removed.stdout
    after = json.loads(run_cli("search", "policy-space search", "--json", env=env).stdout)
    assert "2403.19883" not in [r["id"] for r in after]
