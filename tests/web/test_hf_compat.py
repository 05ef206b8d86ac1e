"""`/api/daily_papers` read by Hugging Face's own client library, over real archived days."""

from __future__ import annotations

import gzip
import json
from datetime import date

import httpx
import pytest

from tests.support.live import LiveServer, loaded_home, write_lines


def real_days(shared_data, count: int) -> list[dict]:
    archive = shared_data / "B_hf_daily_papers" / "hf_daily_papers_api_2025.jsonl.gz"
    days = []
    with gzip.open(archive, "rt") as lines:
        for line in lines:
            day = json.loads(line)
            if all(isinstance(entry, dict) for entry in day["response"]):
                days.append(day)
            if len(days) == count:
                return days
    raise AssertionError("not enough clean days in the archive")


@pytest.fixture(scope="module")
def site(tmp_path_factory, shared_data, module_database_url):
    home = tmp_path_factory.mktemp("home")
    days = real_days(shared_data, 2)
    archive = write_lines(home / "days.jsonl", days)
    server = LiveServer(loaded_home(home, module_database_url, archive)).wait_ready()
    yield server, days
    server.stop()


@pytest.fixture
def hf_client(site, monkeypatch):
    from huggingface_hub import HfApi, constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return HfApi(endpoint=site[0].url)


def test_hugging_face_client_reads_a_day_ranked_like_hugging_face(site, hf_client):
    _, days = site
    first = days[0]
    papers = list(hf_client.list_daily_papers(date=first["date"], sort="trending", limit=100))
    by_upvotes = sorted(first["response"], key=lambda e: (-e["paper"]["upvotes"], e["paper"]["id"]))
    voted = [e["paper"]["id"] for e in by_upvotes if e["paper"]["upvotes"] > 0]
    top = voted[:5]
    assert [p.id for p in papers][: len(top)] == top
    first_paper, original = papers[0], by_upvotes[0]
    assert first_paper.title == " ".join(original["paper"]["title"].split())
    assert first_paper.upvotes == original["paper"]["upvotes"]
    assert [a.name for a in first_paper.authors][:2] == [
        a["name"] for a in original["paper"]["authors"]
    ][:2]


def test_entries_keep_hugging_face_field_names_and_paging(site, shared_data):
    server, days = site
    # the shape of today's API: the newest recorded raw response
    raw = sorted((shared_data / "B_hf_daily_papers" / "raw_daily_papers_responses").glob("*.json"))
    real = json.loads(raw[-1].read_text())[0]
    url = server.url + "/api/daily_papers"
    entries = httpx.get(url, params={"date": days[0]["date"], "limit": 3}).json()
    assert len(entries) == 3
    for entry in entries:
        assert set(entry) <= set(real) | {"isAuthorParticipating"}
        assert set(entry["paper"]) <= set(real["paper"]) | {"githubRepo", "githubStars"}
    newest_first = [e["publishedAt"] for e in entries]
    assert newest_first == sorted(newest_first, reverse=True)
    second = httpx.get(url, params={"date": days[0]["date"], "limit": 3, "p": 1}).json()
    assert not {e["paper"]["id"] for e in entries} & {e["paper"]["id"] for e in second}
    assert httpx.get(url, params={"submitter": "someone"}).json() == []


def test_a_week_holds_its_days_and_bad_parameters_are_refused(site):
    server, days = site
    url = server.url + "/api/daily_papers"
    day = date.fromisoformat(days[0]["date"])
    year, week, _ = day.isocalendar()
    weekly = httpx.get(url, params={"week": f"{year}-W{week:02d}", "limit": 100}).json()
    upvoted = {e["paper"]["id"] for e in days[0]["response"] if e["paper"]["upvotes"] > 0}
    assert upvoted <= {e["paper"]["id"] for e in weekly}
    bad = httpx.get(url, params={"week": "2025-13"})
    assert bad.status_code == 400 and bad.json()["error"] == "week must be written YYYY-Www"
    both = httpx.get(url, params={"date": days[0]["date"], "month": days[0]["date"][:7]})
    assert both.status_code == 400 and "only one of" in both.json()["error"]
    assert httpx.get(url, params={"sort": "random"}).status_code == 400
