"""The arXiv API source against real recorded arXiv answers replayed on loopback.

Real inputs: the 2026 recordings (id lookups, an unknown id, the HTTP 400 error feed, and the
`search_query=testing` pages) and the raw 2016 Atom files, all from
../shared/data/A_arxiv_fixtures. The 2026 recordings store arXiv's UTF-8 body decoded as
Latin-1 ("WÃ¼bben"), so `queue_recording` encodes it back to Latin-1 to serve the bytes arXiv
sent. Hand-made inputs under tests/data/arxiv_api/ (see its README) cover broken entries,
paging edge cases and hostile XML; most are built from the recorded entries.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from paperfeed.errors import InvalidInput, SourceUnavailable
from paperfeed.ingest.http import PoliteClient
from paperfeed.ingest.sources.arxiv_api import ArxivApiSource
from paperfeed.models import Version
from tests.support.replay import Exchange, ReplayServer, arxiv_api_recording

RECORDED = "A_arxiv_fixtures/arxiv_api_atom_recorded_2026"
RAW_2016 = "A_arxiv_fixtures/arxiv_api_atom_raw_2016"
ATOM_HEADERS = [("Content-Type", "application/atom+xml; charset=utf-8")]


def api_path(*, query: str = "", ids: str = "", start: int = 0, max_results: int = 100) -> str:
    """The path+query the source requests (the same shape as the recorded URLs)."""
    return (
        f"/api/query?search_query={query}&id_list={ids}&sortBy=relevance"
        f"&sortOrder=descending&start={start}&max_results={max_results}"
    )


def recorded(shared_data: Path, name: str) -> tuple[str, Exchange]:
    """A 2026 recording as (path+query, exchange), with the bytes arXiv really sent."""
    return arxiv_api_recording(shared_data / RECORDED / name)


def queue_recording(server: ReplayServer, shared_data: Path, name: str, status: int | None = None):
    path_query, exchange = recorded(shared_data, name)
    if status is not None:
        exchange.status = status
    server.queue(path_query, exchange)


def queue_file(server: ReplayServer, path_query: str, file: Path, status: int = 200) -> None:
    server.queue(path_query, Exchange(status, file.read_bytes(), ATOM_HEADERS))


@pytest.fixture
def api_data(test_data) -> Path:
    return test_data / "arxiv_api"


def source(client, server, **kwargs) -> ArxivApiSource:
    return ArxivApiSource(client, endpoint=f"{server.url}/api/query", **kwargs)


# -- id lookups ---------------------------------------------------------------------------


def test_id_lookup_with_version_returns_the_paper_with_dates_links_and_categories(
    client, replay_server, shared_data
):
    queue_recording(replay_server, shared_data, "id_2104.12255v1_s0_m100_6ae69987ffe1.json")

    batches = list(source(client, replay_server, ids=["2104.12255v1"]).batches(None))

    assert len(batches) == 1
    (paper,) = batches[0].papers
    assert paper.id == "2104.12255"
    assert paper.version == 1
    assert paper.title == "0"  # a real title; must not be mistaken for "no title"
    assert paper.authors == ["Quan Thoi Minh Nguyen"]
    assert paper.primary_category == "cs.CR"
    assert paper.categories == ["cs.CR"]
    assert paper.published_at == datetime(2021, 4, 20, 16, 7, 14, tzinfo=UTC)
    assert paper.versions == [Version(1, datetime(2021, 4, 20, 16, 7, 14, tzinfo=UTC))]
    assert paper.abs_url == "https://arxiv.org/abs/2104.12255v1"
    assert paper.pdf_url == "https://arxiv.org/pdf/2104.12255v1"
    assert paper.abstract.startswith("What is the funniest number in cryptography? 0.")
    assert paper.source == "arxiv-api"
    assert batches[0].checkpoint is None
    assert batches[0].failures == []


def test_id_lookup_notes_ids_arxiv_does_not_have_and_keeps_the_others(
    client, replay_server, shared_data
):
    queue_recording(
        replay_server, shared_data, "id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.json"
    )

    (batch,) = source(client, replay_server, ids=["0808.05394", "1707.08567"]).batches(None)

    assert [p.id for p in batch.papers] == ["1707.08567"]
    paper = batch.papers[0]
    assert len(paper.authors) == 34
    assert paper.authors[-2] == "Dirk Wübben"
    assert paper.comment == (
        "44 pages, editors for the proceedings: Yanling Chen and A. J. Han Vinck"
    )
    assert batch.note == "arXiv has no paper for id 0808.05394"
    assert batch.progress_total == 2


def test_unknown_id_gives_no_papers_and_a_note_instead_of_an_error(
    client, replay_server, shared_data
):
    queue_recording(replay_server, shared_data, "id_0000.0000_s0_m100_8b51d9633a68.json")

    batches = list(source(client, replay_server, ids=["0000.0000"]).batches(None))

    assert [len(b.papers) for b in batches] == [0]
    assert batches[0].note == "arXiv has no paper for id 0000.0000"


def test_malformed_id_raises_invalid_input_with_arxivs_own_message(
    client, replay_server, shared_data
):
    queue_recording(replay_server, shared_data, "id_abc_s0_m100_b79c8dcf6bc3.json")

    with pytest.raises(InvalidInput, match=r"^arXiv API: incorrect id format for abc$"):
        list(source(client, replay_server, ids=["abc"]).batches(None))


def test_error_entry_inside_a_200_feed_is_also_invalid_input(client, replay_server, shared_data):
    # The recorded 400 error feed, served with status 200 (the only change).
    queue_recording(replay_server, shared_data, "id_abc_s0_m100_b79c8dcf6bc3.json", status=200)

    with pytest.raises(InvalidInput, match="incorrect id format for abc"):
        list(source(client, replay_server, ids=["abc"]).batches(None))


def test_long_id_list_is_split_into_requests_of_page_size_ids(client, replay_server, shared_data):
    # With page_size=2 the three ids need two requests; the recordings asked max_results=100,
    # so their answers are queued at the max_results=2 requests instead.
    _, pair = recorded(shared_data, "id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.json")
    _, single = recorded(shared_data, "id_1605.08386_s0_m100_199195aa31ad.json")
    replay_server.queue(api_path(ids="0808.05394,1707.08567", max_results=2), pair)
    replay_server.queue(api_path(ids="1605.08386", max_results=2), single)
    ids = ["0808.05394", "1707.08567", "1605.08386"]

    batches = list(source(client, replay_server, ids=ids, page_size=2).batches(None))

    assert [[p.id for p in b.papers] for b in batches] == [["1707.08567"], ["1605.08386"]]
    assert len(replay_server.requests) == 2


def test_2016_schema_entry_reads_doi_journal_ref_comment_and_both_versions(
    client, replay_server, shared_data
):
    raw = shared_data / RAW_2016 / "id_list__1111.2011v2.xml"
    queue_file(replay_server, api_path(ids="1111.2011v2"), raw)

    (batch,) = source(client, replay_server, ids=["1111.2011v2"]).batches(None)

    (paper,) = batch.papers
    assert (paper.id, paper.version) == ("1111.2011", 2)
    assert paper.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert paper.authors == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    assert paper.doi == "10.1103/PhysRevB.85.115117"
    assert paper.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert paper.comment == "8 pages, 3 figures. Published version"
    assert paper.primary_category == "cond-mat.str-el"
    assert paper.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert paper.versions == [
        Version(1, datetime(2011, 11, 8, 18, 48, 36, tzinfo=UTC)),
        Version(2, datetime(2012, 4, 2, 12, 38, 54, tzinfo=UTC)),
    ]
    assert paper.updated_at == datetime(2012, 4, 2, 12, 38, 54, tzinfo=UTC)
    assert paper.abs_url == "http://arxiv.org/abs/1111.2011v2"
    assert paper.pdf_url == "http://arxiv.org/pdf/1111.2011v2"
    assert paper.abstract.startswith("Theoretical description of anisotropic systems, such as")
    assert "\n" not in paper.abstract  # arXiv's hard line wraps are not paragraphs


def test_2016_query_page_reads_old_style_ids(client, replay_server, shared_data):
    raw = shared_data / RAW_2016 / "search_query__au_del_maestro.xml"
    queue_file(replay_server, api_path(query="au:del_maestro", max_results=10), raw)

    src = source(client, replay_server, query="au:del_maestro", page_size=10, max_results=10)
    (batch,) = src.batches(None)

    ids = [p.id for p in batch.papers]
    assert len(ids) == 10
    assert ids[:2] == ["1201.4869", "cond-mat/0412498"]
    assert batch.papers[1].authors == ["Adrian Del Maestro", "Subir Sachdev"]
    assert batch.checkpoint == {"start": 10}
    assert batch.progress_total == 10


# -- paged queries ------------------------------------------------------------------------


def queue_testing_pages(server: ReplayServer, shared_data: Path) -> None:
    for name in (
        "q_testing_s0_m10_bc5a6c384fe9.json",
        "q_testing_s10_m10_34e56e15aaac.json",
        "q_testing_s20_m10_348a237fecab.json",
    ):
        queue_recording(server, shared_data, name)


def test_query_pages_by_start_until_max_results_with_a_checkpoint_per_page(
    client, replay_server, shared_data
):
    queue_testing_pages(replay_server, shared_data)
    src = source(client, replay_server, query="testing", page_size=10, max_results=30)

    batches = list(src.batches(None))

    assert [len(b.papers) for b in batches] == [10, 10, 10]
    assert [b.checkpoint for b in batches] == [{"start": 10}, {"start": 20}, {"start": 30}]
    assert all(b.progress_total == 30 for b in batches)
    ids = [p.id for b in batches for p in b.papers]
    assert len(set(ids)) == 30
    assert batches[1].papers[0].id == "2403.16981"
    assert batches[1].papers[0].version == 2
    assert "type-I error at most $α$" in batches[1].papers[0].abstract
    assert [r.split("&start=")[1] for r in replay_server.requests] == [
        "0&max_results=10",
        "10&max_results=10",
        "20&max_results=10",
    ]
    assert src.checkpoint_key() == "arxiv-api:query:testing"


def test_interrupted_query_resumes_from_its_checkpoint(client, replay_server, shared_data):
    queue_testing_pages(replay_server, shared_data)
    src = source(client, replay_server, query="testing", page_size=10, max_results=30)

    batches = list(src.batches({"start": 20}))

    assert [b.checkpoint for b in batches] == [{"start": 30}]
    assert batches[0].papers[0].id == "2008.01944"
    assert replay_server.requests == [api_path(query="testing", start=20, max_results=10)]


def test_query_stops_when_total_results_is_reached(client, replay_server, api_data):
    queue_file(
        replay_server,
        api_path(query="all:markov", max_results=2),
        api_data / "query_total3_s0_m2.xml",
    )
    queue_file(
        replay_server,
        api_path(query="all:markov", start=2, max_results=2),
        api_data / "query_total3_s2_m2.xml",
    )

    batches = list(source(client, replay_server, query="all:markov", page_size=2).batches(None))

    assert [[p.id for p in b.papers] for b in batches] == [
        ["1605.08386", "2104.12255"],
        ["1707.08567"],
    ]
    assert batches[-1].checkpoint == {"start": 3}
    assert batches[-1].progress_total == 3
    assert len(replay_server.requests) == 2


def test_query_stops_at_an_empty_page_with_a_note_and_a_checkpoint_to_resume_from(
    client, replay_server, api_data
):
    path = api_path(query="all:markov", start=10, max_results=10)
    queue_file(replay_server, path, api_data / "query_empty_page_s10_m10.xml")

    src = source(client, replay_server, query="all:markov", page_size=10)
    batches = list(src.batches({"start": 10}))

    assert [len(b.papers) for b in batches] == [0]
    assert batches[0].checkpoint == {"start": 10}
    assert batches[0].note == "arXiv returned an empty page at start=10 of 50 results; stopped"
    assert len(replay_server.requests) == 1


def test_query_matching_nothing_says_so(client, replay_server, shared_data):
    # The recorded empty answer (totalResults 0), served for a query instead of an id.
    _, exchange = recorded(shared_data, "id_0000.0000_s0_m100_8b51d9633a68.json")
    replay_server.queue(api_path(query="ti:zzzzqqq"), exchange)

    (batch,) = source(client, replay_server, query="ti:zzzzqqq").batches(None)

    assert batch.papers == []
    assert batch.note == "no papers match query 'ti:zzzzqqq'"


def test_unreadable_entries_become_failures_and_the_rest_of_the_page_is_kept(
    client, replay_server, api_data
):
    queue_file(
        replay_server,
        api_path(query="all:markov", max_results=10),
        api_data / "query_bad_entries.xml",
    )

    (batch,) = source(client, replay_server, query="all:markov", page_size=10).batches(None)

    assert [p.id for p in batch.papers] == ["1605.08386"]
    assert [(f.source, f.position) for f in batch.failures] == [
        ("arxiv-api", "result 1 (http://arxiv.org/abs/not-an-arxiv-id)"),
        ("arxiv-api", "result 2 (http://arxiv.org/abs/2104.12255v1)"),
        ("arxiv-api", "result 3 (http://arxiv.org/abs/1707.08567v1)"),
    ]
    reasons = [f.reason for f in batch.failures]
    assert reasons[0] == "not an arXiv id: 'http://arxiv.org/abs/not-an-arxiv-id'"
    assert reasons[1] == "entry http://arxiv.org/abs/2104.12255v1 has no title"
    assert reasons[2] == "unreadable date: 'last Thursday'"
    assert batch.checkpoint == {"start": 4}


def test_small_batch_size_splits_a_page_and_checkpoints_inside_it(
    client, replay_server, shared_data
):
    queue_recording(replay_server, shared_data, "q_testing_s0_m10_bc5a6c384fe9.json")
    src = source(client, replay_server, query="testing", page_size=10, max_results=10, batch_size=4)

    batches = list(src.batches(None))

    assert [len(b.papers) for b in batches] == [4, 4, 2]
    assert [b.checkpoint for b in batches] == [{"start": 4}, {"start": 8}, {"start": 10}]


# -- broken servers and hostile bodies -------------------------------------------------------


def test_failure_on_a_later_page_keeps_earlier_batches_and_names_the_url(
    client, replay_server, shared_data, api_data
):
    queue_recording(replay_server, shared_data, "q_testing_s0_m10_bc5a6c384fe9.json")
    garbage = api_data / "maintenance_page.html"
    queue_file(replay_server, api_path(query="testing", start=10, max_results=10), garbage)
    src = source(client, replay_server, query="testing", page_size=10, max_results=30)

    received = []
    with pytest.raises(SourceUnavailable) as raised:
        for batch in src.batches(None):
            received.append(batch)

    assert [b.checkpoint for b in received] == [{"start": 10}]
    assert len(received[0].papers) == 10
    message = str(raised.value)
    assert f"{replay_server.url}/api/query (query 'testing', start=10)" in message
    assert "not well-formed XML" in message


def test_server_answering_503_then_200_is_retried_after_retry_after(
    client, replay_server, shared_data, recorded_sleeps
):
    replay_server.queue(api_path(ids="1605.08386"), Exchange(503, "busy", [("Retry-After", "7")]))
    queue_recording(replay_server, shared_data, "id_1605.08386_s0_m100_199195aa31ad.json")

    (batch,) = source(client, replay_server, ids=["1605.08386"]).batches(None)

    assert [p.title for p in batch.papers] == ["Heat-bath random walks with Markov bases"]
    assert 7.0 in recorded_sleeps


def test_hanging_server_becomes_source_unavailable(replay_server, recorded_sleeps):
    replay_server.queue(api_path(ids="1605.08386"), Exchange(behaviour="hang", hang_s=2))
    with PoliteClient(min_interval_s=0, timeout_s=0.5, max_retries=0, sleep=recorded_sleeps) as c:
        with pytest.raises(SourceUnavailable, match="timed out"):
            list(source(c, replay_server, ids=["1605.08386"]).batches(None))


def test_dropped_connection_becomes_source_unavailable(client, replay_server):
    for _ in range(2):
        replay_server.queue(api_path(ids="1605.08386"), Exchange(behaviour="drop"))

    with pytest.raises(SourceUnavailable, match="connection failed"):
        list(source(client, replay_server, ids=["1605.08386"]).batches(None))


def test_body_cut_short_in_transit_becomes_source_unavailable(client, replay_server, shared_data):
    for _ in range(2):  # the client retries once
        path_query, exchange = recorded(shared_data, "id_1605.08386_s0_m100_199195aa31ad.json")
        exchange.behaviour = "truncate"
        replay_server.queue(path_query, exchange)

    with pytest.raises(SourceUnavailable, match="connection failed"):
        list(source(client, replay_server, ids=["1605.08386"]).batches(None))


def test_truncated_xml_document_becomes_source_unavailable_naming_the_url(
    client, replay_server, shared_data
):
    path_query, exchange = recorded(shared_data, "id_1605.08386_s0_m100_199195aa31ad.json")
    exchange.body = exchange.body[: len(exchange.body) // 2]  # complete HTTP, half a feed
    replay_server.queue(path_query, exchange)

    with pytest.raises(SourceUnavailable) as raised:
        list(source(client, replay_server, ids=["1605.08386"]).batches(None))

    assert str(raised.value).startswith(
        f"{replay_server.url}/api/query (id_list 1605.08386, start=0): not well-formed XML"
    )


def test_feed_of_another_format_is_refused_with_the_url(client, replay_server, shared_data):
    rdf = shared_data / "A_arxiv_fixtures/arxiv_rss_legacy_rdf"
    rdf_file = next(rdf.glob("*.xml"))
    queue_file(replay_server, api_path(ids="1605.08386"), rdf_file)

    with pytest.raises(SourceUnavailable, match=r"/api/query .*expected an Atom feed, got <RDF>"):
        list(source(client, replay_server, ids=["1605.08386"]).batches(None))


def test_entity_bomb_is_refused_with_a_clear_error(client, replay_server, api_data):
    queue_file(replay_server, api_path(ids="2401.04757"), api_data / "entity_bomb.xml")

    with pytest.raises(SourceUnavailable, match="refused XML with entity or DTD declarations"):
        list(source(client, replay_server, ids=["2401.04757"]).batches(None))


def test_invalid_utf8_bytes_are_replaced_and_the_entry_kept(client, replay_server, api_data):
    path = api_path(query="all:markov", max_results=10)
    queue_file(replay_server, path, api_data / "query_latin1_bytes.xml")

    (batch,) = source(client, replay_server, query="all:markov", page_size=10).batches(None)

    assert [p.authors for p in batch.papers] == [["Jos\ufffd Nguyen"]]


def test_http_404_from_a_wrong_endpoint_is_source_unavailable(client, replay_server):
    # Nothing queued: the replay server answers 404 like a wrong --endpoint would.
    with pytest.raises(SourceUnavailable, match="HTTP 404"):
        list(source(client, replay_server, ids=["1605.08386"]).batches(None))


# -- construction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give either ids or a query"),
        ({"ids": ["1605.08386"], "query": "testing"}, "give either ids or a query"),
        ({"ids": [" ", ""]}, "the id list is empty"),
        ({"query": "  "}, "the query is empty"),
        ({"query": "testing", "page_size": 0}, "page_size must be 1..2000"),
        ({"query": "testing", "max_results": 0}, "max_results must be at least 1"),
    ],
)
def test_constructor_rejects_unusable_arguments(client, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        ArxivApiSource(client, **kwargs)


def test_corrupt_checkpoint_is_refused_with_a_clear_message(client):
    src = ArxivApiSource(client, query="testing")

    with pytest.raises(InvalidInput, match="unusable checkpoint"):
        list(src.batches({"start": "ten"}))


def test_id_lookup_has_no_checkpoint_key(client):
    assert ArxivApiSource(client, ids=["1605.08386"]).checkpoint_key() is None
