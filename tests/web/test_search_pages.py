"""Search on the web: the /search page, its JSON twin, /api/search and /api/similar, served by a
live `paperfeed serve` over real papers indexed with the real model."""

from __future__ import annotations

import httpx
import pytest

from tests.support.live import LiveServer, loaded_home


@pytest.fixture(scope="module")
def live(tmp_path_factory, test_data, module_database_url):
    home = tmp_path_factory.mktemp("home")
    papers = test_data / "search" / "papers.jsonl"
    server = LiveServer(loaded_home(home, module_database_url, papers, index=True)).wait_ready()
    yield server
    server.stop()


def get(live, path: str, **params) -> httpx.Response:
    return httpx.get(live.url + path, params=params, timeout=60)


def test_search_page_shows_ranked_papers_with_highlights_and_reasons(live):
    page = get(live, "/search", q="prompt injection attacks")
    assert page.status_code == 200
    html = page.text
    first = html.index('href="/papers/')
    assert html[first:].startswith('href="/papers/2403.04957"')
    assert "<mark>" in html and "keyword #" in html and "semantic #" in html
    assert 'role="search"' in html and '<label for="q">' in html


def test_page_and_json_twin_and_api_give_the_same_results(live):
    html = get(live, "/search", q="graph neural networks", mode="keyword").text
    twin = get(live, "/search.json", q="graph neural networks", mode="keyword").json()
    api = get(live, "/api/search", q="graph neural networks", mode="keyword").json()
    assert twin["results"] and twin == api | {"took_ms": twin["took_ms"]}
    assert twin["mode"] == "keyword"
    positions = [html.index(f'href="/papers/{r["id"]}"') for r in twin["results"]]
    assert positions == sorted(positions)
    assert all(r["why"]["semantic_rank"] is None for r in twin["results"])


def test_pages_do_not_overlap(live):
    first = get(live, "/api/search", q="language models", limit=5).json()["results"]
    second = get(live, "/api/search", q="language models", limit=5, page=2).json()["results"]
    assert len(first) == len(second) == 5
    assert not {r["id"] for r in first} & {r["id"] for r in second}
    html = get(live, "/search", q="language models", limit=5, page=2).text
    assert 'href="/search?q=language+models&amp;limit=5&amp;page=3"' in html
    assert "page=1" in html  # the "previous" link


def test_filters_narrow_the_results(live):
    everything = get(live, "/api/search", q="learning", limit=50).json()["results"]
    only_cv = get(live, "/api/search", q="learning", category="cs.CV", limit=50).json()["results"]
    assert 0 < len(only_cv) < len(everything)
    assert all("cs.CV" in r["categories"] for r in only_cv)
    none = get(live, "/api/search", q="learning", since="2030-01-01").json()
    assert none["results"] == []


@pytest.mark.parametrize(
    "query",
    [
        '<script>alert("x")</script> "unbalanced',
        "author: category: -- ** (( ))",
        "\x00\x01 emoji 🧪 and NUL",
        "x" * 10_000,
    ],
)
def test_hostile_queries_answer_and_are_escaped(live, query):
    page = get(live, "/search", q=query)
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert get(live, "/api/search", q=query).status_code == 200


def test_bad_options_get_the_json_error_shape(live):
    bad_mode = get(live, "/api/search", q="x", mode="psychic")
    assert bad_mode.status_code == 400
    assert bad_mode.json() == {
        "ok": False,
        "error": "mode must be one of hybrid, keyword, semantic",
        "status": 400,
    }
    bad_day = get(live, "/api/search", q="x", since="yesterday")
    assert bad_day.status_code == 400 and "YYYY-MM-DD" in bad_day.json()["error"]
    assert get(live, "/search", q="x", limit="many").status_code == 400


def test_similar_api_for_papers_and_for_text(live):
    near = get(live, "/api/similar", id="2403.04957v1", limit=3).json()
    assert near["mode"] == "semantic" and len(near["results"]) == 3
    assert "2403.04957" not in [r["id"] for r in near["results"]]
    text = get(live, "/api/similar", text="Long-form factuality in large language models").json()
    assert text["results"][0]["id"] == "2403.18802"
    unknown = get(live, "/api/similar", id="1234.56789")
    assert unknown.status_code == 404 and "1234.56789" in unknown.json()["error"]
    neither = get(live, "/api/similar")
    assert neither.status_code == 400


def test_paper_page_lists_similar_papers(live):
    page = get(live, "/papers/2403.04957")
    assert page.status_code == 200
    similar = page.text.split('id="similar-heading"', 1)[1]
    ids = get(live, "/api/similar", id="2403.04957", limit=5).json()["results"]
    assert f'href="/papers/{ids[0]["id"]}"' in similar
