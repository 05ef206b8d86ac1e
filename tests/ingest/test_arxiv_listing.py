"""The arXiv daily-listing source, with each feed format served by a loopback replay server.

Where the inputs come from:
- The legacy RSS 1.0/RDF feed is REAL: arXiv's hep-ex feed of 2018-05-23 (trimmed to 3 items),
  ../shared/data/A_arxiv_fixtures/arxiv_rss_legacy_rdf/.
- The RSS 2.0 and Atom listings in tests/data/listing/ are NOT recorded: no real sample was
  available. They are BUILT FROM arXiv's documentation of its feeds (info.arxiv.org/help/
  rss_specifications.html and atom_specifications.html, i.e. the feed at rss.arxiv.org since
  2024): the element names, the guid/id form `oai:arXiv.org:<id>v<n>`, the description prefix
  "arXiv:<id>v<n> Announce Type: <type> \\nAbstract: ...", dc:creator, arxiv:announce_type,
  arxiv:DOI and arxiv:journal_reference. The paper contents (ids, titles, authors, abstracts,
  categories) are copied from real records of the shared cs.AI corpus (C_arxiv_metadata_corpus),
  but the announce types, versions and dates were chosen to cover each case: they are not a real
  day's listing. rss_math.OC_documented_example.xml is the documentation's own example item.
  The malformed and hostile files are hand-made. See tests/data/listing/README.md.

Cross-listed papers requested through several categories are deduplicated by the source
(first category wins); the test below pins that.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from paperfeed.errors import InvalidInput, SourceUnavailable
from paperfeed.ingest.http import PoliteClient
from paperfeed.ingest.sources.arxiv_listing import ArxivListingSource
from paperfeed.models import Version
from tests.support.replay import Exchange, ReplayServer

LEGACY_RDF = "A_arxiv_fixtures/arxiv_rss_legacy_rdf/arxiv_rss_rdf_hep-ex_2018-05-23_trimmed.xml"
ANNOUNCED_2024_01_10 = datetime(2024, 1, 10, 5, 0, tzinfo=UTC)  # 00:00 EST


@pytest.fixture
def listing(test_data) -> Path:
    return test_data / "listing"


def serve(server: ReplayServer, path: str, file: Path, status: int = 200) -> None:
    content_type = "application/atom+xml" if "atom" in file.name else "application/rss+xml"
    server.queue(path, Exchange(status, file.read_bytes(), [("Content-Type", content_type)]))


def read_all(client, server, categories, **kwargs):
    src = ArxivListingSource(client, categories, endpoint=server.url, **kwargs)
    return list(src.batches(None))


# -- the three formats --------------------------------------------------------------------


def test_rss2_listing_yields_new_cross_and_replacements_with_their_versions(
    client, replay_server, listing
):
    serve(replay_server, "/rss/cs.LG", listing / "rss_cs.LG_2024-01-10.xml")

    (batch,) = read_all(client, replay_server, ["cs.LG"])

    assert [(p.id, p.version) for p in batch.papers] == [
        ("2401.04757", 1),
        ("2401.04489", 1),
        ("2401.04536", 1),
        ("2401.03988", 2),
        ("2401.11351", 2),
    ]
    assert batch.note == "cs.LG: 5 announced (new=2, cross=1, replace=1, replace-cross=1)"
    assert batch.checkpoint is None
    assert replay_server.requests == ["/rss/cs.LG"]


def test_rss2_item_fields_are_read_and_cleaned(client, replay_server, listing):
    serve(replay_server, "/rss/cs.LG", listing / "rss_cs.LG_2024-01-10.xml")

    (batch,) = read_all(client, replay_server, ["cs.LG"])

    new, second_new, cross, replaced, replace_cross = batch.papers
    assert new.title == "How predictable is language model benchmark performance?"
    assert new.authors == ["David Owen"]
    assert new.abstract.startswith("We investigate large language model performance across")
    assert "Announce Type" not in new.abstract and "arXiv:" not in new.abstract
    assert new.categories == ["cs.LG", "cs.AI"]
    assert new.primary_category == "cs.LG"  # a "new" item in a cs.LG feed is primary there
    assert new.published_at == ANNOUNCED_2024_01_10
    assert new.versions == [Version(1, None)]  # a listing does not say when it was submitted
    assert new.abs_url == "https://arxiv.org/abs/2401.04757"
    assert new.pdf_url == "https://arxiv.org/pdf/2401.04757"
    assert new.source == "arxiv-listing"
    assert second_new.authors == ["Tim Huisman", "Jacobus G. M. van der Linden", "Emir Demirović"]
    assert cross.primary_category is None  # cross-listed here, so its primary is elsewhere
    # A replacement is a newer version announced today, not a first publication.
    assert replaced.published_at is None
    assert replaced.updated_at == ANNOUNCED_2024_01_10
    assert replaced.versions == [Version(2, None)]
    assert replace_cross.categories == ["quant-ph", "cs.AI", "cs.LG", "stat.ML"]


def test_documented_example_item_reads_doi_and_journal_reference(client, replay_server, listing):
    serve(replay_server, "/rss/math.OC", listing / "rss_math.OC_documented_example.xml")

    (batch,) = read_all(client, replay_server, ["math.OC"])

    (paper,) = batch.papers
    assert (paper.id, paper.version) == ("2203.01250", 3)
    assert paper.authors == ["Antonin Monteil", "Paul Pegon"]
    assert paper.doi == "10.5802/jep.257"
    assert paper.journal_ref == (
        "Journal de l'\\'Ecole polytechnique - Math\\'ematiques, Tome 11 (2024), pp. 431-472"
    )
    assert paper.updated_at == datetime(2024, 8, 23, 4, 0, tzinfo=UTC)
    assert "$\\min \\int_{\\mathbb{R}^N}f(u,\\nabla u)$" in paper.abstract
    assert batch.note == "math.OC: 1 announced (replace-cross=1)"


def test_atom_listing_reads_the_same_papers_as_rss(client, replay_server, listing):
    serve(replay_server, "/atom/cs.LG", listing / "atom_cs.LG_2024-01-10.xml")
    serve(replay_server, "/rss/cs.LG", listing / "rss_cs.LG_2024-01-10.xml")

    (atom_batch,) = read_all(client, replay_server, ["cs.LG"], feed_format="atom")
    (rss_batch,) = read_all(client, replay_server, ["cs.LG"], feed_format="rss")

    assert atom_batch.papers == rss_batch.papers
    assert atom_batch.note == rss_batch.note
    # One Atom entry lists its authors as <author><name> elements instead of dc:creator.
    assert atom_batch.papers[2].authors[:2] == ["Tim R. Davidson", "Veniamin Veselovsky"]
    assert replay_server.requests == ["/atom/cs.LG", "/rss/cs.LG"]


def test_format_is_detected_from_the_body_not_the_setting(client, replay_server, listing):
    serve(replay_server, "/rss/cs.LG", listing / "atom_cs.LG_2024-01-10.xml")

    (batch,) = read_all(client, replay_server, ["cs.LG"], feed_format="rss")

    assert len(batch.papers) == 5


def test_legacy_rdf_feed_reads_id_version_and_category_from_the_title(
    client, replay_server, shared_data
):
    serve(replay_server, "/rss/hep-ex", shared_data / LEGACY_RDF)

    (batch,) = read_all(client, replay_server, ["hep-ex"])

    assert [(p.id, p.version) for p in batch.papers] == [
        ("1805.08875", 1),
        ("1805.09166", 1),
        ("1805.06430", 2),
    ]
    first, crossed, updated = batch.papers
    assert first.title == "Measurement of Transverse Single Spin Asymmetries"
    assert first.authors == ["Christopher Dilks"]  # HTML link and collaboration dropped
    assert "<p>" not in first.abstract and "&lt;" not in first.abstract
    assert "$2.6<\\eta<4$" in first.abstract
    assert first.primary_category == "hep-ex"
    assert first.published_at == datetime(2018, 5, 24, 1, 30, tzinfo=UTC)  # channel dc:date
    assert crossed.title == "Recent Top quark results from the Tevatron"
    assert crossed.primary_category is None
    assert updated.primary_category == "nucl-th"
    assert updated.authors == [
        "Shu-Sheng Xu",
        "Zhu-Fang Cui",
        "Lei Chang",
        "Joannis Papavassiliou",
        "Craig D. Roberts",
        "Hong-Shi Zong",
    ]
    assert batch.note == "hep-ex: 3 announced (new=1, cross=1, replace-cross=1)"


# -- empty, several categories, batching -------------------------------------------------------


@pytest.mark.parametrize(
    ("feed_format", "file"),
    [("rss", "rss_cs.LG_weekend_empty.xml"), ("atom", "atom_cs.LG_weekend_empty.xml")],
)
def test_empty_weekend_listing_yields_no_papers_and_says_so(
    client, replay_server, listing, feed_format, file
):
    serve(replay_server, f"/{feed_format}/cs.LG", listing / file)

    batches = read_all(client, replay_server, ["cs.LG"], feed_format=feed_format)

    assert [len(b.papers) for b in batches] == [0]
    assert batches[0].note == "no announcements today for cs.LG"
    assert batches[0].failures == []


def test_paper_cross_listed_in_two_requested_categories_is_yielded_once(
    client, replay_server, listing
):
    serve(replay_server, "/rss/cs.LG", listing / "rss_cs.LG_2024-01-10.xml")
    serve(replay_server, "/rss/cs.AI", listing / "rss_cs.AI_2024-01-10.xml")

    lg, ai = read_all(client, replay_server, ["cs.LG", "cs.AI"])

    assert len(lg.papers) == 5
    # cs.AI lists 2401.04757 and 2401.04536 again (as cross-lists); only its own paper is new.
    assert [p.id for p in ai.papers] == ["2401.06793"]
    assert (
        ai.note == "cs.AI: 3 announced (new=1, cross=2); 2 already listed under an earlier category"
    )
    all_ids = [p.id for b in (lg, ai) for p in b.papers]
    assert len(all_ids) == len(set(all_ids)) == 6


def test_batches_hold_at_most_batch_size_papers(client, replay_server, listing):
    serve(replay_server, "/rss/cs.LG", listing / "rss_cs.LG_2024-01-10.xml")

    batches = read_all(client, replay_server, ["cs.LG"], batch_size=2)

    assert [len(b.papers) for b in batches] == [2, 2, 1]
    assert [b.note is not None for b in batches] == [False, False, True]


# -- bad records and bad feeds ----------------------------------------------------------------


def test_html_and_scripts_in_titles_abstracts_and_authors_are_cleaned(
    client, replay_server, listing
):
    serve(replay_server, "/rss/cs.CL", listing / "rss_cs.CL_html_and_script.xml")

    (batch,) = read_all(client, replay_server, ["cs.CL"])

    tagged, cdata = batch.papers
    assert tagged.title == "Scaling Sparse Transformers & Friends"
    assert tagged.abstract == "We show that bold claims hold when $a<b$ and $c>d$."
    assert tagged.authors == ["Eve Example", "Bob Builder"]
    assert cdata.title == "Parsing CDATA Titles"
    assert cdata.abstract == "First paragraph. Second & last."
    for paper in batch.papers:
        text = " ".join([paper.title, paper.abstract, *paper.authors])
        assert "<" not in text.replace("$a<b$", "")
        assert "script" not in text and "alert" not in text and "cookie" not in text


def test_item_without_an_id_becomes_a_failure_and_the_rest_are_kept(client, replay_server, listing):
    serve(replay_server, "/rss/cs.LG", listing / "rss_cs.LG_broken_items.xml")

    (batch,) = read_all(client, replay_server, ["cs.LG"])

    assert [p.id for p in batch.papers] == ["2401.04757", "2401.03988"]
    assert [(f.source, f.position, f.reason) for f in batch.failures] == [
        (
            "arxiv-listing",
            "cs.LG item 2",
            "item has no arXiv id (no readable guid, id, link or description prefix)",
        ),
        ("arxiv-listing", "cs.LG item 3", "unreadable date: 'sometime on Wednesday'"),
    ]
    assert batch.note == "cs.LG: 2 announced (new=1, replace=1), 2 unreadable"


def test_truncated_feed_is_source_unavailable_naming_the_url(client, replay_server, listing):
    serve(replay_server, "/rss/cs.LG", listing / "rss_cs.LG_truncated.xml")

    with pytest.raises(SourceUnavailable) as raised:
        read_all(client, replay_server, ["cs.LG"])

    assert str(raised.value).startswith(f"{replay_server.url}/rss/cs.LG: not well-formed XML")


def test_html_error_page_is_source_unavailable_naming_the_url(client, replay_server, listing):
    serve(replay_server, "/rss/cs.LG", listing / "maintenance_page.html")

    with pytest.raises(SourceUnavailable, match=rf"^{replay_server.url}/rss/cs.LG: not well"):
        read_all(client, replay_server, ["cs.LG"])


def test_well_formed_xml_that_is_not_a_feed_is_refused(client, replay_server):
    replay_server.queue("/rss/cs.LG", Exchange(200, b"<html><body>Hello</body></html>"))

    with pytest.raises(
        SourceUnavailable, match=r"not an arXiv listing feed \(root element <html>\)"
    ):
        read_all(client, replay_server, ["cs.LG"])


@pytest.mark.parametrize("file", ["rss_entity_bomb.xml", "rss_external_entity.xml"])
def test_entity_declarations_are_refused_not_expanded(client, replay_server, listing, file):
    serve(replay_server, "/rss/cs.LG", listing / file)

    with pytest.raises(SourceUnavailable, match="refused XML with entity or DTD declarations"):
        read_all(client, replay_server, ["cs.LG"])


def test_invalid_utf8_bytes_are_replaced_and_the_item_kept(client, replay_server, listing):
    serve(replay_server, "/rss/cs.LG", listing / "rss_cs.LG_latin1_bytes.xml")

    (batch,) = read_all(client, replay_server, ["cs.LG"])

    assert [p.authors for p in batch.papers] == [["David Owen", "Andr\ufffd Mart\ufffdnez"]]


def test_failure_on_a_later_category_keeps_the_earlier_batches(client, replay_server, listing):
    serve(replay_server, "/rss/cs.LG", listing / "rss_cs.LG_2024-01-10.xml")
    serve(replay_server, "/rss/cs.AI", listing / "rss_cs.LG_truncated.xml")

    received = []
    src = ArxivListingSource(client, ["cs.LG", "cs.AI"], endpoint=replay_server.url)
    with pytest.raises(SourceUnavailable, match="/rss/cs.AI"):
        for batch in src.batches(None):
            received.append(batch)

    assert [len(b.papers) for b in received] == [5]


def test_server_answering_503_then_200_is_retried(client, replay_server, listing, recorded_sleeps):
    replay_server.queue("/rss/cs.LG", Exchange(503, "busy", [("Retry-After", "5")]))
    serve(replay_server, "/rss/cs.LG", listing / "rss_cs.LG_2024-01-10.xml")

    (batch,) = read_all(client, replay_server, ["cs.LG"])

    assert len(batch.papers) == 5
    assert 5.0 in recorded_sleeps


def test_hanging_server_becomes_source_unavailable(replay_server, recorded_sleeps):
    replay_server.queue("/rss/cs.LG", Exchange(behaviour="hang", hang_s=2))
    with PoliteClient(min_interval_s=0, timeout_s=0.5, max_retries=0, sleep=recorded_sleeps) as c:
        with pytest.raises(SourceUnavailable, match="timed out"):
            read_all(c, replay_server, ["cs.LG"])


def test_dropped_connection_becomes_source_unavailable(client, replay_server):
    for _ in range(2):
        replay_server.queue("/rss/cs.LG", Exchange(behaviour="drop"))

    with pytest.raises(SourceUnavailable, match="connection failed"):
        read_all(client, replay_server, ["cs.LG"])


def test_unknown_category_answered_404_is_invalid_input(client, replay_server):
    replay_server.queue("/rss/cs.XX", Exchange(404, "Not Found"))

    with pytest.raises(InvalidInput, match=r"no feed for 'cs.XX' \(HTTP 404 at .*/rss/cs.XX\)"):
        read_all(client, replay_server, ["cs.XX"])


# -- construction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("categories", "kwargs", "message"),
    [
        ([], {}, "give at least one category"),
        (["../../etc/passwd"], {}, "is not an arXiv category"),
        (["cs.LG?x=1"], {}, "is not an arXiv category"),
        (["cs.LG"], {"feed_format": "json"}, "feed_format must be rss or atom"),
        (["cs.LG"], {"batch_size": 0}, "batch_size must be at least 1"),
    ],
)
def test_constructor_rejects_unusable_arguments(client, categories, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        ArxivListingSource(client, categories, **kwargs)


def test_listing_accepts_archive_subject_and_combined_categories_and_has_no_checkpoint(client):
    src = ArxivListingSource(client, ["cs", "cond-mat.str-el", "math-ph", "cs.AI+q-bio.NC"])

    assert src.categories == ["cs", "cond-mat.str-el", "math-ph", "cs.AI+q-bio.NC"]
    assert src.checkpoint_key() is None
    assert src.name == "arxiv-listing"
