"""Two sources of the same papers loaded in turn (issue 17 §10): the arXiv records of one month
as a JSON-lines file, and the Hugging Face archive of 2025. Each fills the other's gaps once;
after that, loading either again is a no-op, and the dates arXiv gave are never replaced by the
day Hugging Face listed a paper."""

from __future__ import annotations

from datetime import UTC, datetime

from paperfeed.ingest.normalize import canonical_arxiv_link, plausible_first_date
from paperfeed.ingest.run import ingest
from paperfeed.ingest.sources.bulk_file import BulkFileSource
from paperfeed.storage.papers import get_stored

ARXIV_MONTH = "C_arxiv_metadata_corpus/daydayarxiv_csAI_2025-02.jsonl.gz"
HF_YEAR = "B_hf_daily_papers/hf_daily_papers_api_2025.jsonl.gz"


def test_alternating_the_arxiv_file_and_the_hf_archive_changes_nothing(engine, shared_data):
    arxiv, hf = shared_data / ARXIV_MONTH, shared_data / HF_YEAR
    first = [ingest(BulkFileSource(path), engine) for path in (arxiv, hf)]
    assert first[0].new > 3000 and first[1].new > 3000
    with engine.connect() as conn:
        before = get_stored(conn, ["2502.16886"])["2502.16886"].paper
    for path in (arxiv, hf, arxiv, hf):
        again = ingest(BulkFileSource(path), engine)
        assert (again.new, again.updated) == (0, 0), path.name
    with engine.connect() as conn:
        paper = get_stored(conn, ["2502.16886"])["2502.16886"].paper
    assert paper == before
    # arXiv's date, not 2026-06-26 (the day Hugging Face gave); links in one form.
    assert paper.published_at.date().isoformat() == "2025-02-24"
    assert paper.pdf_url == "https://arxiv.org/pdf/2502.16886"


def test_links_and_dates_are_read_the_same_whoever_spells_them():
    assert canonical_arxiv_link("http://arxiv.org/pdf/2502.16886v1.pdf") == (
        "https://arxiv.org/pdf/2502.16886"
    )
    assert canonical_arxiv_link("https://export.arxiv.org/abs/hep-th/9901001v2") == (
        "https://arxiv.org/abs/hep-th/9901001"
    )
    assert canonical_arxiv_link("https://github.com/a/b") == "https://github.com/a/b"
    listed = datetime(2026, 6, 26, tzinfo=UTC)
    assert plausible_first_date("2502.16886", listed) is None
    submitted = datetime(2025, 2, 24, 6, 33, tzinfo=UTC)
    assert plausible_first_date("2502.16886", submitted) == submitted
    assert plausible_first_date("hep-th/9901001", listed) == listed  # old ids name no month
