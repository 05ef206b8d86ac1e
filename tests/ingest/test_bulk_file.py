"""BulkFileSource on the real shared files (corpus C, seed papers, HF archive and raw days) and
on hand-made fixtures in tests/data/files and tests/data/hf, good, broken and hostile."""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
from datetime import UTC, datetime

import pytest

from paperfeed.errors import InvalidInput
from paperfeed.ingest.normalize import clean_abstract, clean_text
from paperfeed.ingest.sources.bulk_file import FILE_FORMATS, BulkFileSource
from paperfeed.ingest.sources.fields import (
    fast_clean_abstract,
    fast_clean_text,
    read_authors,
    tex_to_text,
)

C_MONTH = "C_arxiv_metadata_corpus/daydayarxiv_csAI_2024-01.jsonl.gz"


def _read_all(source, checkpoint=None):
    batches = list(source.batches(checkpoint))
    papers = [p for b in batches for p in b.papers]
    signals = [s for b in batches for s in b.signals]
    failures = [f for b in batches for f in b.failures]
    return batches, papers, signals, failures


def _write(tmp_path, name: str, data: bytes | str):
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


# --- real files ------------------------------------------------------------------------------


def test_corpus_month_file_loads_every_record_with_its_fields(shared_data):
    source = BulkFileSource(shared_data / C_MONTH)

    batches, papers, _, failures = _read_all(source)

    assert source.name == "jsonl"
    assert len(papers) == 1952 and failures == []
    assert [len(b.papers) for b in batches] == [1000, 952]
    paper = papers[0]
    assert paper.id == "2401.00974" and paper.version == 1
    assert paper.title.startswith("Downstream Task-Oriented Generative Model Selections")
    assert paper.authors[:2] == ["Yinan Cheng", "Chi-Hua Wang"]
    assert paper.categories == ["cs.LG", "cs.AI"] and paper.primary_category == "cs.LG"
    assert paper.published_at == datetime(2024, 1, 1, 23, 33, 56, tzinfo=UTC)
    assert [(v.number, v.submitted_at) for v in paper.versions] == [(1, paper.published_at)]
    assert paper.pdf_url == "http://arxiv.org/pdf/2401.00974v1"
    assert paper.abs_url == "https://arxiv.org/abs/2401.00974"
    assert "\n" not in paper.abstract and paper.abstract.startswith("Devising procedures")
    assert paper.comment.startswith("The following article has been accepted by ICAIF22")
    assert batches[-1].checkpoint["position"] == 1952 and batches[-1].progress_total == 1952


def test_seed_papers_with_only_title_and_abstract_get_local_ids(shared_data):
    _, papers, _, failures = _read_all(BulkFileSource(shared_data / "seed-papers.jsonl"))

    assert len(papers) == 80 and failures == []
    assert len({p.id for p in papers}) == 80
    assert all(p.id.startswith("local:") and p.abstract for p in papers)
    assert papers[0].title == (
        "Fast, Accurate, and Lightweight Super-Resolution with Cascading Residual Network"
    )


@pytest.mark.parametrize(
    ("year", "entries", "signals"),
    [(2024, 2202, 4404), (2025, 3939, 8816)],
)
def test_hf_archive_year_decodes_python_literal_entries(shared_data, year, entries, signals):
    path = shared_data / f"B_hf_daily_papers/hf_daily_papers_api_{year}.jsonl.gz"
    source = BulkFileSource(path)

    _, papers, readings, failures = _read_all(source)

    # 2024 holds 218 Python-literal entries, 2025 73 more plus a {"data": [...]} wrapped day
    assert source.name == "hf-daily"
    assert (len(papers), len(readings), failures) == (entries, signals, [])
    literal_day, literal_upvotes = ("2024-12-11", 26) if year == 2024 else ("2025-01-10", 9)
    observed = datetime.fromisoformat(literal_day + "T23:59:59+00:00")
    upvotes = sum(1 for s in readings if s.observed_at == observed and s.kind == "upvotes")
    assert upvotes == literal_upvotes


def test_hf_raw_day_files_are_observed_on_the_day_in_their_name(shared_data):
    folder = shared_data / "B_hf_daily_papers/raw_daily_papers_responses"
    total = 0
    for path in sorted(folder.glob("*.json")):
        source = BulkFileSource(path)
        _, papers, signals, failures = _read_all(source)
        assert source.name == "hf-daily" and failures == []
        day = path.stem.removeprefix("daily_papers_")
        assert {s.observed_at for s in signals} == {datetime.fromisoformat(day + "T23:59:59Z")}
        total += len(papers)
    assert total == 459


def test_hf_raw_day_without_date_in_name_is_observed_at_file_mtime(shared_data, tmp_path):
    raw = shared_data / "B_hf_daily_papers/raw_daily_papers_responses/daily_papers_2025-03-03.json"
    path = tmp_path / "today.json"
    shutil.copy(raw, path)
    os.utime(path, (1_760_000_000, 1_760_000_000))

    _, papers, signals, _ = _read_all(BulkFileSource(path))

    assert len(papers) == 7
    assert {s.observed_at for s in signals} == {datetime.fromtimestamp(1_760_000_000, UTC)}


# --- formats on fixtures -----------------------------------------------------------------------


def test_snapshot_records_give_versions_dates_and_decoded_authors(test_data):
    source = BulkFileSource(test_data / "files/arxiv_snapshot_sample.jsonl")

    _, papers, _, failures = _read_all(source)

    assert source.name == "arxiv-snapshot"
    by_id = {p.id: p for p in papers}
    assert list(by_id) == ["0704.0001", "hep-th/9901001", "1706.03762", "math/0211159"]
    first = by_id["0704.0001"]
    assert first.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert first.version == 2
    assert first.published_at == datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)
    assert first.updated_at == datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC)
    assert first.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert (first.journal_ref, first.doi) == (
        "Phys.Rev.D76:013009,2007",
        "10.1103/PhysRevD.76.013009",
    )
    old = by_id["hep-th/9901001"]
    assert old.authors == ["A. N. Example", "J. Müller"]
    assert old.categories == ["hep-th", "gr-qc"] and old.primary_category == "hep-th"
    assert old.abstract == "We study a toy model.\n\nIt has two paragraphs."
    assert old.pdf_url == "https://arxiv.org/pdf/hep-th/9901001"
    assert [v.number for v in by_id["1706.03762"].versions] == [1, 2, 3, 4, 5]
    assert by_id["math/0211159"].authors == ["Grisha Perelman"]  # from the authors string
    assert [(f.position, f.reason) for f in failures] == [("line 6", "no title")]


def test_generic_jsonl_reports_each_bad_line_and_keeps_the_rest(test_data):
    _, papers, _, failures = _read_all(BulkFileSource(test_data / "files/generic_mixed.jsonl"))

    assert [(f.position, f.reason.split(" (")[0]) for f in failures] == [
        ("line 2", "not a JSON record"),
        ("line 3", "no title"),
        ("line 6", "not a JSON object"),
        ("line 7", "unreadable date in published: 'yesterday-ish'"),
        ("line 10", "id is not text"),
    ]
    first, hostile, local, nul = papers
    assert (first.id, first.version) == ("2401.00974", 2)
    assert [(v.number, v.submitted_at.day) for v in first.versions] == [(1, 1), (2, 3)]
    assert first.code_url == "https://github.com/example/repo"
    assert hostile.title == "Robust Bold Title & More"  # script dropped, tags stripped
    assert hostile.authors == ["Ann One", "Bob Two", "Cid Three"]
    assert hostile.project_url is None
    assert local.id.startswith("local:") and local.authors == ["Dee Four", "Eve Five"]
    assert local.abstract == "Uses summary instead of abstract."
    assert nul.title == "Title with NUL and bell" and nul.authors == ["John Smith", "Jane Doe"]
    assert nul.id.startswith("local:") and nul.version == 3
    assert nul.categories == ["cs.IR", "cs.DL"]


def test_csv_with_header_quoted_paragraphs_and_a_row_without_title(test_data):
    source = BulkFileSource(test_data / "files/papers.csv")

    _, papers, _, failures = _read_all(source)

    assert source.name == "csv"
    assert [p.title for p in papers] == [
        "Downstream Task-Oriented Generative Model Selections",
        "A CSV Paper Without Id",
        "Another Good Row",
    ]
    assert papers[0].id == "2401.00974" and papers[0].authors == ["Yinan Cheng", "Chi-Hua Wang"]
    assert papers[1].abstract == "First paragraph.\n\nSecond paragraph after a blank line."
    assert papers[2].published_at == datetime(2024, 3, 5, tzinfo=UTC)
    assert [(f.position, f.reason) for f in failures] == [("row 3", "no title")]


def test_json_object_with_papers_array(test_data):
    source = BulkFileSource(test_data / "files/papers.json")

    batches, papers, _, failures = _read_all(source)

    assert source.name == "json"
    assert [p.id for p in papers][0] == "2405.15738"
    assert papers[1].id.startswith("local:")
    assert [(f.position, f.reason) for f in failures] == [("record 2", "not a JSON object")]
    assert batches[-1].progress_total == 3


def test_bibtex_library_maps_arxiv_ids_names_accents_and_dates(test_data):
    source = BulkFileSource(test_data / "files/library.bib")

    _, papers, _, failures = _read_all(source)

    assert source.name == "bibtex"
    by_title = {p.title: p for p in papers}
    assert [p.id for p in papers][:4] == ["1706.03762", "2405.15738", "0704.0001", "2310.06825"]
    attention = papers[0]
    assert attention.authors == ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar", "Jakob Uszkoreit"]
    assert attention.published_at == datetime(2017, 6, 1, tzinfo=UTC)
    convllava = papers[1]
    assert (convllava.version, convllava.primary_category) == (2, "cs.CV")
    assert convllava.title.startswith("ConvLLaVA: Hierarchical")
    assert "challenges of excessive visual tokens" in convllava.abstract  # wrapped line joined
    german = by_title["Über die Schrödinger-Gleichung für $O(n^2)$ Teilchen"]
    assert german.id.startswith("local:")
    assert german.authors == ["Hans Müller", "Pál Erdős", "Barnes and Noble Research"]
    assert german.published_at == datetime(2019, 3, 1, tzinfo=UTC)
    assert german.doi == "10.1000/example.2019"
    assert german.abs_url == "https://example.org/paper.pdf"
    assert papers[2].journal_ref == "Advances in Neural Information Processing Systems, 2007"
    assert [(f.position, f.reason) for f in failures] == [
        ("line 50 (notitle2020)", "no title"),
        (
            "line 55 (broken2021)",
            "bad BibTeX: entry is not well-formed (an unclosed brace or quote?)",
        ),
        ("line 65 (after_broken)", "bad BibTeX: Duplicate entry key 'after_broken'"),
    ]
    assert papers[-1].title == "The Entry After a Broken One"


def test_hf_archive_with_broken_lines_reports_them_and_reads_the_rest(test_data):
    _, papers, signals, failures = _read_all(
        BulkFileSource(test_data / "hf/archive_malformed.jsonl")
    )

    assert [p.id for p in papers] == [
        "2506.23044",
        "2506.23858",
        "2506.24119",
        "2506.17930",
        "2506.24123",
    ]
    assert {s.observed_at.date().isoformat() for s in signals} == {
        "2025-07-01",
        "2025-07-04",
        "2025-07-07",
    }
    assert [(f.position, f.reason.split(" (")[0]) for f in failures] == [
        ("line 2", "not a JSON record"),
        ("line 3", "response is not a list of entries"),
        ("line 4", "unreadable date: 'July 3rd'"),
        ("line 6 (2025-07-07) entry 1", "entry is text that is neither JSON nor a Python literal"),
    ]


def test_every_listed_format_is_registered():
    assert set(FILE_FORMATS) == {"jsonl", "json", "csv", "arxiv-snapshot", "hf-daily", "bibtex"}
    assert all(f.description for f in FILE_FORMATS.values())


# --- detection, encodings, hostile input ------------------------------------------------------


def test_gzip_is_recognised_by_its_magic_bytes_not_its_name(shared_data, tmp_path):
    plain = (shared_data / "seed-papers.jsonl").read_bytes()
    path = _write(tmp_path, "seed.data", gzip.compress(plain))

    source = BulkFileSource(path)
    _, papers, _, _ = _read_all(source)

    assert source.name == "jsonl" and len(papers) == 80


def test_detection_by_content_when_the_extension_says_nothing(test_data, tmp_path):
    cases = {
        "snap": ("files/arxiv_snapshot_sample.jsonl", "arxiv-snapshot"),
        "bib": ("files/library.bib", "bibtex"),
        "doc": ("files/papers.json", "json"),
        "hfday": ("hf/malformed_day_2025-07-01.json", "hf-daily"),
        "hfarchive": ("hf/archive_malformed.jsonl", "hf-daily"),
    }
    for name, (fixture, expected) in cases.items():
        path = tmp_path / name
        shutil.copy(test_data / fixture, path)
        assert BulkFileSource(path).name == expected, name


def test_unknown_format_name_and_unreadable_content_are_refused_clearly(tmp_path):
    path = _write(tmp_path, "notes.txt", "just some words\nno json here\n")

    with pytest.raises(InvalidInput, match="cannot tell its format"):
        BulkFileSource(path)
    with pytest.raises(InvalidInput, match=r"unknown file format 'xml' \(known: auto, jsonl"):
        BulkFileSource(path, file_format="xml")
    with pytest.raises(InvalidInput, match="no such file"):
        BulkFileSource(tmp_path / "missing.jsonl")


def test_non_utf8_line_is_read_as_windows_1252_and_noted(tmp_path):
    good = json.dumps({"title": "Plain UTF-8 ü"}).encode()
    legacy = '{"title": "Caf\u00e9 M\u00fcller \u2013 r\u00e9sum\u00e9"}'.encode("cp1252")
    path = _write(tmp_path, "legacy.jsonl", good + b"\n" + legacy + b"\n")

    batches, papers, _, failures = _read_all(BulkFileSource(path))

    assert [p.title for p in papers] == ["Plain UTF-8 ü", "Café Müller – résumé"]
    assert failures == []
    assert batches[0].note == "1 line(s), first line 2 not valid UTF-8, read as Windows-1252"


def test_non_utf8_bibtex_line_is_decoded_too(tmp_path):
    data = "@article{k, title={Gr\u00fc\u00dfe aus K\u00f6ln}, author={M\u00fcller, J.}}\n"
    path = _write(tmp_path, "legacy.bib", data.encode("cp1252"))

    batches, papers, _, _ = _read_all(BulkFileSource(path))

    assert papers[0].title == "Grüße aus Köln" and papers[0].authors == ["J. Müller"]
    assert "not valid UTF-8" in batches[0].note


def test_raw_nul_bytes_and_bom_do_not_break_the_file(tmp_path):
    data = (
        b"\xef\xbb\xbf" + json.dumps({"title": "After a BOM"}).encode() + b"\n"
        b'{"title": "raw \x00 NUL"}\n' + json.dumps({"title": "Last"}).encode() + b"\n"
    )
    _, papers, _, failures = _read_all(BulkFileSource(_write(tmp_path, "nul.jsonl", data)))

    assert [p.title for p in papers] == ["After a BOM", "Last"]
    assert failures[0].position == "line 2"
    assert failures[0].reason.startswith("not a JSON record (unexpected control character")


def test_ten_megabyte_line_and_huge_title_fail_alone(tmp_path):
    huge_line = json.dumps({"title": "x" * (10 * 2**20)})
    long_title = json.dumps({"title": "word " * 2000})
    lines = [huge_line, long_title, json.dumps({"title": "Survivor"})]
    path = _write(tmp_path, "huge.jsonl", "\n".join(lines) + "\n")

    _, papers, _, failures = _read_all(BulkFileSource(path))

    assert [p.title for p in papers] == ["Survivor"]
    assert [(f.position, f.reason) for f in failures] == [
        ("line 1", "line is longer than 4 MiB"),
        ("line 2", "title is longer than 5000 characters"),
    ]


def test_truncated_gzip_raises_after_the_batches_already_read(shared_data, tmp_path):
    data = (shared_data / C_MONTH).read_bytes()
    path = _write(tmp_path, "cut.jsonl.gz", data[: len(data) // 2])
    run = BulkFileSource(path, batch_size=200).batches(None)

    first = next(run)
    with pytest.raises(InvalidInput, match=r"cut\.jsonl\.gz: cannot read on after record \d+"):
        list(run)

    assert len(first.papers) == 200 and first.checkpoint["position"] == 200


def test_broken_json_document_and_csv_without_title_column_are_refused(tmp_path):
    broken = _write(tmp_path, "broken.json", '[{"title": "a"}, {"title": ')
    no_title = _write(tmp_path, "people.csv", "name,age\nAnn,3\n")

    with pytest.raises(InvalidInput, match=r"broken\.json: not valid JSON"):
        list(BulkFileSource(broken).batches(None))
    with pytest.raises(InvalidInput, match=r"people\.csv: the first row must be a header"):
        list(BulkFileSource(no_title).batches(None))


def test_empty_file_yields_one_batch_with_a_note(tmp_path):
    batches, papers, _, _ = _read_all(BulkFileSource(_write(tmp_path, "empty.jsonl", "")))

    assert papers == [] and batches[0].note == "no records in empty.jsonl"


# --- checkpoints ------------------------------------------------------------------------------


def test_resume_skips_consumed_records_of_an_unchanged_file(shared_data, tmp_path):
    path = tmp_path / "month.jsonl.gz"
    shutil.copy(shared_data / C_MONTH, path)
    source = BulkFileSource(path, batch_size=500)
    _, everything, _, _ = _read_all(source)
    run = source.batches(None)
    next(run)
    second = next(run)
    run.close()

    assert second.checkpoint == {
        "position": 1000,
        "size": path.stat().st_size,
        "mtime": path.stat().st_mtime,
        "format": "jsonl",
    }
    assert source.checkpoint_key() == f"file:{path.resolve()}"
    _, rest, _, _ = _read_all(source, second.checkpoint)
    assert [p.id for p in rest] == [p.id for p in everything[1000:]]


def test_changed_file_starts_over_and_finished_file_has_nothing_new(shared_data, tmp_path):
    path = tmp_path / "seed.jsonl"
    shutil.copy(shared_data / "seed-papers.jsonl", path)
    source = BulkFileSource(path)
    done = _read_all(source)[0][-1].checkpoint

    again = _read_all(source, done)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    changed = _read_all(source, done)

    assert (
        again[1] == []
        and again[0][0].note == "all 80 records of seed.jsonl were read before; nothing new"
    )
    assert len(changed[1]) == 80


def test_resume_inside_the_hf_archive_continues_after_any_batch(test_data):
    source = BulkFileSource(test_data / "hf/archive_malformed.jsonl", batch_size=1)
    batches, papers, _, failures = _read_all(source)
    assert batches[0].checkpoint["position"] == 1  # mid-line: the first entry of day one

    for index, batch in enumerate(batches):
        seen = [p.id for b in batches[: index + 1] for p in b.papers]
        failed = sum(len(b.failures) for b in batches[: index + 1])
        _, rest, _, rest_failures = _read_all(source, batch.checkpoint)
        assert seen + [p.id for p in rest] == [p.id for p in papers]
        assert failed + len(rest_failures) == len(failures)


# --- text cleaning shortcuts --------------------------------------------------------------------


def test_fast_cleaning_gives_exactly_what_normalize_gives():
    pieces = [
        "a",
        "b ",
        " ",
        "\n",
        "\n\n",
        "\t",
        "\r\n",
        "\x0b",
        "\x1c",
        "\xa0",
        "\u2003",
        "<",
        "<b>",
        "</p>",
        "&amp;",
        "&",
        "é",
        "\x00",
        "\u2028",
        "\x85",
        "\x7f",
        "  x",
    ]
    rng = random.Random(7)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        assert fast_clean_text(text) == clean_text(text), repr(text)
        assert fast_clean_abstract(text) == clean_abstract(text), repr(text)
        names = [text, text[::-1], "Ann  One", " Bo\nB "][: rng.randint(0, 4)]
        assert read_authors(names) == [n for n in map(clean_text, names) if n], names


def test_tex_accents_and_braces_decode_outside_math_only():
    assert tex_to_text(r"Erd{\H{o}}s, G{\"o}del, \c{C}a\u{g}lar, {\ss}, \AA{}ngstr\"om") == (
        "Erdős, Gödel, Çağlar, ß, Ångström"
    )
    assert tex_to_text(r"{\em Bold} claims on $\alpha_{\rm max}$ \& 50\%") == (
        r"Bold claims on $\alpha_{\rm max}$ & 50%"
    )
