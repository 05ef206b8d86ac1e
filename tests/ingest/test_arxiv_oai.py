"""ArxivOaiSource against real OAI-PMH recordings replayed on loopback, plus broken answers.

Real recordings come from ../shared/data/A_arxiv_fixtures; derived and hostile pages are in
tests/data/oai (see its README for how each was made).
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from datetime import UTC, date, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from paperfeed.errors import InvalidInput, SourceUnavailable
from paperfeed.ingest.http import PoliteClient
from paperfeed.ingest.sources.arxiv_oai import ArxivOaiSource, iter_pages
from paperfeed.ingest.sources.oai_xml import parse_oai_page, parse_record
from paperfeed.models import Version
from tests.support.replay import Exchange, ReplayServer, oai_interceptors

XML = [("Content-Type", "text/xml")]
TOKEN = "6960524|1001"


class Upstream:
    """One test's own slice of a shared replay server: everything lives under its own path
    prefix, so answers queued by one test can never reach another."""

    def __init__(self, server: ReplayServer, prefix: str) -> None:
        self.server = server
        self.prefix = prefix
        self.url = server.url + prefix

    def queue(self, path_and_query: str, exchange: Exchange) -> None:
        self.server.queue(self.prefix + path_and_query, exchange)

    @property
    def requests(self) -> list[str]:
        n = len(self.prefix)
        return [path[n:] for path in self.server.requests if path.startswith(self.prefix)]


@pytest.fixture(scope="module")
def shared_server():
    # One server for the module: stopping a ReplayServer waits out its 0.5 s poll interval,
    # which would otherwise cost more than all the tests themselves.
    server = ReplayServer().start()
    yield server
    server.stop()


_test_numbers = itertools.count(1)


@pytest.fixture
def replay_server(shared_server) -> Upstream:
    return Upstream(shared_server, f"/t{next(_test_numbers)}")


@pytest.fixture
def oai_2018(shared_data):
    return shared_data / "A_arxiv_fixtures" / "oaipmh_arxiv_recorded_2018"


@pytest.fixture
def raw_2015(shared_data):
    return shared_data / "A_arxiv_fixtures" / "oaipmh_arxivraw_2015"


def oai_path(**params: str) -> str:
    return "/oai2?" + urlencode(params)


def serve(server, path: str, body: bytes, status: int = 200) -> None:
    server.queue(path, Exchange(status, body, XML))


def source_for(server, client, **kwargs) -> ArxivOaiSource:
    return ArxivOaiSource(client, endpoint=server.url + "/oai2", **kwargs)


def queried(server) -> list[dict[str, str]]:
    return [dict(parse_qsl(urlsplit(path).query)) for path in server.requests]


def recorded_listrecords_200(oai_2018) -> bytes:
    exchanges = oai_interceptors(oai_2018 / "listrecords_list-identifiers-from-arxiv.json")
    return exchanges[1][1].body.encode()


DEFAULT_PATH = "/oai2?verb=ListRecords&metadataPrefix=arXiv"
FIRST_2015 = {"verb": "ListRecords", "metadataPrefix": "arXiv", "from": "2015-01-01"}


# Real recordings


def test_503_with_retry_after_waits_10_s_then_parses_the_200(
    replay_server, client, recorded_sleeps, oai_2018
):
    for path, exchange in oai_interceptors(
        oai_2018 / "listrecords_list-identifiers-from-arxiv.json"
    ):
        replay_server.queue(path, exchange)
    source = source_for(
        replay_server, client, from_date=date(2015, 1, 1), until_date=date(2015, 1, 3)
    )

    batches = list(source.batches(None))

    assert recorded_sleeps == [10.0]
    assert len(replay_server.requests) == 2
    [batch] = batches
    assert [p.id for p in batch.papers] == ["1412.8544", "hep-th/9504118"]
    first, second = batch.papers
    assert first.title == "A Kochen-Specker system has at least 22 vectors (extended abstract)"
    assert first.authors == ["Sander Uijlen", "Bas Westerbaan"]
    assert first.categories == ["cs.DM"] and first.primary_category == "cs.DM"
    assert first.journal_ref == "EPTCS 172, 2014, pp. 154-164"
    assert first.doi == "10.4204/EPTCS.172.11"
    assert first.comment == "In Proceedings QPL 2014, arXiv:1412.8102"
    assert first.abstract.startswith("At the heart of the Conway-Kochen Free Will theorem")
    assert "\n\nContinuing their effort" in first.abstract
    assert first.published_at == datetime(2014, 12, 29, tzinfo=UTC)
    assert first.updated_at is None and first.version is None and first.versions == []
    assert first.abs_url == "https://arxiv.org/abs/1412.8544"
    assert first.pdf_url == "https://arxiv.org/pdf/1412.8544"
    assert first.source == "arxiv-oai"
    assert second.authors == ["M. Requardt"]
    assert 'the "strength" of the bonds' in second.abstract
    assert batch.failures == []
    assert batch.checkpoint == {}  # a window with an end leaves the daily cursor alone


def test_recorded_getrecord_record_parses_with_the_same_record_parser(oai_2018):
    [(_, exchange)] = oai_interceptors(oai_2018 / "getrecord_arxiv-1412.8544.json")
    page = parse_oai_page(exchange.body.encode(), "http://replay/oai2")

    paper = parse_record(page.items[0], "arxiv-oai")

    assert paper.id == "1412.8544"
    assert paper.authors == ["Sander Uijlen", "Bas Westerbaan"]
    assert paper.doi == "10.4204/EPTCS.172.11"


def test_arxivraw_record_gives_every_version_with_its_submission_time(raw_2015):
    page = parse_oai_page((raw_2015 / "GetRecordResponse.xml").read_bytes(), "http://replay")

    paper = parse_record(page.items[0], "arxiv-oai")

    assert paper.id == "1302.2146"
    assert paper.version == 2
    assert paper.versions == [
        Version(1, datetime(2013, 2, 8, 21, 0, 1, tzinfo=UTC)),
        Version(2, datetime(2013, 4, 2, 1, 50, 8, tzinfo=UTC)),
    ]
    assert paper.published_at == datetime(2013, 2, 8, 21, 0, 1, tzinfo=UTC)
    assert paper.updated_at == datetime(2013, 4, 2, 1, 50, 8, tzinfo=UTC)
    assert paper.title == "The Same-Sign Dilepton Signature of RPV/MFV SUSY"
    assert paper.authors == ["Joshua Berger", "Maxim Perelstein", "Michael Saelim", "Philip Tanedo"]
    assert paper.categories == ["hep-ph", "hep-ex"] and paper.primary_category == "hep-ph"
    assert paper.comment == "18 pages, 6 figures; v2: References added"


def test_arxivraw_harvest_yields_versions_and_counts_deleted_records(
    replay_server, client, test_data
):
    serve(
        replay_server,
        oai_path(verb="ListRecords", metadataPrefix="arXivRaw", set="physics:hep-ph"),
        (test_data / "oai" / "listrecords_arxivraw.xml").read_bytes(),
    )
    source = source_for(replay_server, client, prefix="arXivRaw", set_spec="physics:hep-ph")

    [batch] = list(source.batches(None))

    assert [(p.id, p.version) for p in batch.papers] == [("1302.2146", 2)]
    assert batch.note == "skipped 1 deleted record"
    assert batch.failures == []
    assert batch.checkpoint == {"harvested_until": "2015-01-02"}


def test_no_records_match_is_an_empty_batch_with_a_note_not_an_error(
    replay_server, client, raw_2015
):
    serve(
        replay_server,
        oai_path(verb="ListRecords", metadataPrefix="arXivRaw", set="moo"),
        (raw_2015 / "ErrorResponseNoRecordsMatch.xml").read_bytes(),
    )
    source = source_for(replay_server, client, prefix="arXivRaw", set_spec="moo")

    [batch] = list(source.batches(None))

    assert batch.papers == [] and batch.failures == []
    assert batch.note.startswith("no records match prefix=arXivRaw set=moo")
    assert "The setSpec was 'moo'" in batch.note
    assert batch.checkpoint == {}


@pytest.mark.parametrize(
    ("folder", "name", "message"),
    [
        ("raw", "ErrorResponseBadArgument.xml", "badArgument: Verb 'ListRecords', illegal"),
        ("raw", "ErrorResponseBadVerb.xml", "badVerb: Bad verb. Verb 'wah' not implemented."),
        ("oai", "error_cannot_disseminate_format.xml", "cannotDisseminateFormat: Unknown"),
        ("oai", "error_no_set_hierarchy.xml", "noSetHierarchy: This repository does not"),
    ],
)
def test_oai_request_errors_raise_invalid_input_with_the_server_message(
    replay_server, client, raw_2015, test_data, folder, name, message
):
    body = ((raw_2015 if folder == "raw" else test_data / "oai") / name).read_bytes()
    replay_server.queue(DEFAULT_PATH, Exchange(200, body, XML))

    with pytest.raises(InvalidInput) as error:
        list(source_for(replay_server, client).batches(None))

    assert message in str(error.value)
    assert str(error.value).startswith(replay_server.url + "/oai2?")


# Page and token following


def test_generic_repository_pages_are_followed_with_verb_and_token_only(
    replay_server, client, shared_data
):
    # The envelope parser reads any verb and prefix: this non-arXiv ListIdentifiers (oai_dc)
    # flow checks token following against a real server's tokens, byte for byte.
    recording = "oaipmh_generic_resumption/listidentifiers_resumption_token_gulbenkian_oai_dc.json"
    for path, exchange in oai_interceptors(shared_data / "A_arxiv_fixtures" / recording):
        replay_server.queue(path, exchange)
    params = {
        "verb": "ListIdentifiers",
        "metadataPrefix": "oai_dc",
        "from": "2016-01-01",
        "until": "2017-01-01",
    }

    pages = list(iter_pages(client, replay_server.url + "/oaiextended/request", params))

    token = "oai_dc/2016-01-01T00:00:00Z/2017-01-01T00:00:00Z//100"
    assert [used for used, _, _ in pages] == [None, token]
    assert [len(page.items) for _, _, page in pages] == [100, 54]
    assert [page.complete_list_size for _, _, page in pages] == [154, 154]
    assert pages[-1][2].token is None
    assert queried(replay_server)[1] == {"verb": "ListIdentifiers", "resumptionToken": token}
    assert len(replay_server.requests) == 2


def test_single_arxiv_page_without_resumption_token_ends_the_list(replay_server, client, oai_2018):
    [(path, exchange)] = oai_interceptors(
        oai_2018 / "listidentifiers_list-identifiers-from-arxiv.json"
    )
    replay_server.queue(path, exchange)
    params = {
        "verb": "ListIdentifiers",
        "metadataPrefix": "arXiv",
        "from": "2009-01-01",
        "until": "2009-01-02",
    }

    pages = list(iter_pages(client, replay_server.url + "/oai2", params))

    assert len(pages) == 1
    assert pages[0][2].token is None and len(pages[0][2].items) > 50


def test_harvest_follows_token_and_last_batch_records_harvested_until(
    replay_server, client, test_data
):
    serve(
        replay_server,
        oai_path(**FIRST_2015),
        (test_data / "oai" / "listrecords_arxiv_page1.xml").read_bytes(),
    )
    serve(
        replay_server,
        oai_path(verb="ListRecords", resumptionToken=TOKEN),
        (test_data / "oai" / "listrecords_arxiv_page2.xml").read_bytes(),
    )
    source = source_for(replay_server, client, from_date=date(2015, 1, 1))

    first, second = list(source.batches(None))

    assert [p.id for p in first.papers] == ["1412.8544"]
    assert [p.id for p in second.papers] == ["hep-th/9504118"]
    assert first.progress_total == second.progress_total == 3
    assert first.checkpoint == {
        "harvest": {
            "from": "2015-01-01",
            "until": None,
            "token": TOKEN,
            "skip": 0,
            "newest_datestamp": "2015-01-03",
            "previous_until": None,
        }
    }
    assert json.loads(json.dumps(first.checkpoint)) == first.checkpoint
    assert second.note == "skipped 1 deleted record"
    assert second.checkpoint == {"harvested_until": "2015-01-03"}
    assert queried(replay_server) == [FIRST_2015, {"verb": "ListRecords", "resumptionToken": TOKEN}]


def test_interrupted_harvest_resumes_from_checkpoint_without_refetching_page_one(
    replay_server, client, test_data
):
    serve(
        replay_server,
        oai_path(**FIRST_2015),
        (test_data / "oai" / "listrecords_arxiv_page1.xml").read_bytes(),
    )
    token_path = oai_path(verb="ListRecords", resumptionToken=TOKEN)
    for _ in range(2):  # every attempt the client makes fails
        serve(replay_server, token_path, b"<html>overloaded</html>", status=500)
    source = source_for(replay_server, client, from_date=date(2015, 1, 1))
    stored = []

    with pytest.raises(SourceUnavailable, match="HTTP 500"):
        for batch in source.batches(None):
            stored.append(batch)

    assert [p.id for b in stored for p in b.papers] == ["1412.8544"]
    before = len(replay_server.requests)
    serve(
        replay_server, token_path, (test_data / "oai" / "listrecords_arxiv_page2.xml").read_bytes()
    )

    resumed = list(source.batches(stored[-1].checkpoint))

    assert [p.id for b in resumed for p in b.papers] == ["hep-th/9504118"]
    assert queried(replay_server)[before:] == [{"verb": "ListRecords", "resumptionToken": TOKEN}]
    assert resumed[-1].checkpoint == {"harvested_until": "2015-01-03"}


def test_page_larger_than_batch_size_is_split_and_each_checkpoint_resumes_after_its_batch(
    replay_server, client, oai_2018
):
    path = oai_path(**FIRST_2015, until="2015-01-03")
    serve(replay_server, path, recorded_listrecords_200(oai_2018))
    source = source_for(
        replay_server, client, from_date=date(2015, 1, 1), until_date=date(2015, 1, 3), batch_size=1
    )

    first, second = list(source.batches(None))

    assert [p.id for p in first.papers] == ["1412.8544"]
    assert first.checkpoint["harvest"]["skip"] == 1
    assert first.checkpoint["harvest"]["token"] is None
    serve(replay_server, path, recorded_listrecords_200(oai_2018))
    resumed = list(source.batches(first.checkpoint))
    assert [p.id for b in resumed for p in b.papers] == ["hep-th/9504118"]
    assert resumed[-1].checkpoint == second.checkpoint == {}


def test_finished_harvest_checkpoint_starts_an_incremental_harvest_from_that_date(
    replay_server, client, oai_2018
):
    # The recorded request is from=2015-01-01: only the checkpoint can have supplied that date.
    serve(
        replay_server,
        oai_path(**FIRST_2015, until="2015-01-03"),
        recorded_listrecords_200(oai_2018),
    )
    source = source_for(replay_server, client, until_date=date(2015, 1, 3))

    [batch] = list(source.batches({"harvested_until": "2015-01-01"}))

    assert len(batch.papers) == 2
    assert queried(replay_server)[0]["from"] == "2015-01-01"
    assert batch.checkpoint == {"harvested_until": "2015-01-01"}  # --until: a backfill


def test_expired_resumption_token_restarts_the_harvest_once_from_its_from_date(
    replay_server, client, oai_2018, test_data, caplog
):
    serve(
        replay_server,
        oai_path(verb="ListRecords", resumptionToken="stale"),
        (test_data / "oai" / "error_bad_resumption_token.xml").read_bytes(),
    )
    serve(
        replay_server,
        oai_path(**FIRST_2015, until="2015-01-03"),
        recorded_listrecords_200(oai_2018),
    )
    checkpoint = {
        "harvest": {
            "from": "2015-01-01",
            "until": "2015-01-03",
            "token": "stale",
            "skip": 0,
            "newest_datestamp": "2015-01-02",
        }
    }

    with caplog.at_level(logging.WARNING):
        batches = list(source_for(replay_server, client).batches(checkpoint))

    assert [p.id for b in batches for p in b.papers] == ["1412.8544", "hep-th/9504118"]
    assert "bad resumption token, restarting harvest" in caplog.text
    assert "from=2015-01-01" in caplog.text
    assert batches[-1].checkpoint == {}  # a window with an end leaves the daily cursor alone


def test_resumption_token_rejected_again_after_restart_is_source_unavailable(
    replay_server, client, test_data
):
    rejected = (test_data / "oai" / "error_bad_resumption_token.xml").read_bytes()
    serve(replay_server, oai_path(verb="ListRecords", resumptionToken="stale"), rejected)
    serve(
        replay_server,
        oai_path(**FIRST_2015),
        (test_data / "oai" / "listrecords_arxiv_page1.xml").read_bytes(),
    )
    serve(replay_server, oai_path(verb="ListRecords", resumptionToken=TOKEN), rejected)
    checkpoint = {"harvest": {"from": "2015-01-01", "until": None, "token": "stale", "skip": 0}}
    stored = []

    with pytest.raises(SourceUnavailable, match="rejected a fresh resumption token"):
        for batch in source_for(replay_server, client).batches(checkpoint):
            stored.append(batch)

    assert [p.id for b in stored for p in b.papers] == ["1412.8544"]


def test_server_repeating_the_same_token_stops_instead_of_looping(replay_server, client, test_data):
    page1 = (test_data / "oai" / "listrecords_arxiv_page1.xml").read_bytes()
    serve(replay_server, oai_path(**FIRST_2015), page1)
    serve(replay_server, oai_path(verb="ListRecords", resumptionToken=TOKEN), page1)

    with pytest.raises(SourceUnavailable, match="repeated resumption token"):
        list(source_for(replay_server, client, from_date=date(2015, 1, 1)).batches(None))


# Broken and hostile answers


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("listrecords_truncated.xml", "not well-formed XML"),
        ("garbage.bin", "not well-formed XML"),
        ("html_maintenance_page.html", "not an OAI-PMH response (root element <html>)"),
        ("billion_laughs.xml", "refused XML that declares entities"),
        ("external_entity.xml", "refused XML that declares entities"),
    ],
)
def test_unusable_page_is_source_unavailable_naming_the_url(
    replay_server, client, test_data, name, problem
):
    replay_server.queue(DEFAULT_PATH, Exchange(200, (test_data / "oai" / name).read_bytes(), XML))
    started = time.monotonic()

    with pytest.raises(SourceUnavailable) as error:
        list(source_for(replay_server, client).batches(None))

    assert problem in str(error.value)
    assert str(error.value).startswith(replay_server.url + "/oai2?")
    assert "metadataPrefix=arXiv" in str(error.value)
    assert time.monotonic() - started < 2  # an entity bomb is refused, never expanded


def test_record_missing_id_or_title_is_a_failure_and_the_rest_of_the_page_is_kept(
    replay_server, client, test_data
):
    body = (test_data / "oai" / "listrecords_bad_records.xml").read_bytes()
    replay_server.queue(DEFAULT_PATH, Exchange(200, body, XML))

    [batch] = list(source_for(replay_server, client).batches(None))

    assert [p.id for p in batch.papers] == ["1412.0002", "hep-th/9504119"]
    assert [(f.source, f.position, f.reason) for f in batch.failures] == [
        ("arxiv-oai", "page 1 record 1 (oai:arXiv.org:1412.0001)", "record has no <id>"),
        (
            "arxiv-oai",
            "page 1 record 2 (oai:arXiv.org:hep-th/9504118)",
            "record hep-th/9504118 has no <title>",
        ),
    ]


def test_html_entities_and_script_in_titles_are_cleaned(replay_server, client, test_data):
    body = (test_data / "oai" / "listrecords_bad_records.xml").read_bytes()
    replay_server.queue(DEFAULT_PATH, Exchange(200, body, XML))

    [batch] = list(source_for(replay_server, client).batches(None))

    assert batch.papers[0].title == "Spin glass & order in two dimensions"


def test_invalid_utf8_byte_in_one_title_keeps_the_whole_page(replay_server, client, test_data):
    body = (test_data / "oai" / "listrecords_invalid_utf8.xml").read_bytes()
    replay_server.queue(DEFAULT_PATH, Exchange(200, body, XML))

    [batch] = list(source_for(replay_server, client).batches(None))

    assert [p.id for p in batch.papers] == ["1412.8544", "hep-th/9504118"]
    assert batch.papers[1].title == "Discr\ufffdte Mathematics and Physics on the Planck-Scale"


def test_hanging_server_is_source_unavailable_within_timeout_and_retries(
    replay_server, recorded_sleeps
):
    for _ in range(2):
        replay_server.queue(DEFAULT_PATH, Exchange(behaviour="hang", hang_s=2))
    started = time.monotonic()

    with PoliteClient(
        min_interval_s=0, timeout_s=0.5, max_retries=1, sleep=recorded_sleeps
    ) as slow:
        with pytest.raises(SourceUnavailable) as error:
            list(source_for(replay_server, slow).batches(None))

    assert time.monotonic() - started < 1.9
    assert str(error.value) == f"{replay_server.url}/oai2: timed out after 2 attempts"
    assert len(recorded_sleeps) == 1  # one backoff between the two attempts


def test_dropped_connection_is_source_unavailable_after_retries(replay_server, client):
    for _ in range(2):
        replay_server.queue(DEFAULT_PATH, Exchange(behaviour="drop"))

    with pytest.raises(SourceUnavailable, match="connection failed"):
        list(source_for(replay_server, client).batches(None))

    assert len(replay_server.requests) == 2


def test_unknown_path_answer_is_source_unavailable_with_http_status(replay_server, client):
    with pytest.raises(SourceUnavailable, match="HTTP 404, not an OAI-PMH answer"):
        list(source_for(replay_server, client).batches(None))


# Construction and checkpoint key


def test_checkpoint_key_depends_on_prefix_and_set_not_on_dates(client):
    a = ArxivOaiSource(client, prefix="arXivRaw", set_spec="cs", from_date=date(2024, 1, 1))
    b = ArxivOaiSource(client, prefix="arXivRaw", set_spec="cs", until_date=date(2024, 2, 1))

    assert a.checkpoint_key() == b.checkpoint_key() == "arxiv-oai:arXivRaw:cs"
    assert ArxivOaiSource(client).checkpoint_key() == "arxiv-oai:arXiv:all"
    assert ArxivOaiSource(client).name == "arxiv-oai"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prefix": "oai_dc"}, "metadata prefix must be one of"),
        ({"from_date": date(2024, 3, 2), "until_date": date(2024, 3, 1)}, "is after until_date"),
        ({"from_date": date(2031, 1, 1)}, "from_date 2031-01-01 is in the future"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
    ],
)
def test_unusable_arguments_raise_invalid_input(client, kwargs, message):
    def clock() -> datetime:
        return datetime(2030, 6, 1, tzinfo=UTC)

    with pytest.raises(InvalidInput, match=message):
        ArxivOaiSource(client, clock=clock, **kwargs)


def test_explicit_other_dates_start_a_fresh_harvest_instead_of_resuming(
    replay_server, client, oai_2018
):
    serve(
        replay_server,
        oai_path(**FIRST_2015, until="2015-01-03"),
        recorded_listrecords_200(oai_2018),
    )
    interrupted = {"harvest": {"from": "2014-06-01", "until": None, "token": "old", "skip": 0}}
    source = source_for(
        replay_server, client, from_date=date(2015, 1, 1), until_date=date(2015, 1, 3)
    )

    [batch] = list(source.batches(interrupted))

    assert len(batch.papers) == 2
    assert queried(replay_server) == [{**FIRST_2015, "until": "2015-01-03"}]


@pytest.mark.parametrize(
    ("today", "cursor_after"),
    [(date(2026, 11, 25), "2015-01-03"), (date(2015, 1, 2), "2015-01-02")],
)
def test_open_ended_harvest_moves_the_daily_cursor_forward_but_never_past_today(
    replay_server, client, oai_2018, today, cursor_after
):
    serve(replay_server, oai_path(**FIRST_2015), recorded_listrecords_200(oai_2018))
    clock = lambda: datetime(today.year, today.month, today.day, 12, tzinfo=UTC)  # noqa: E731
    source = source_for(replay_server, client, clock=clock)

    [batch] = list(source.batches({"harvested_until": "2015-01-01"}))

    assert len(batch.papers) == 2
    assert batch.checkpoint == {"harvested_until": cursor_after}
