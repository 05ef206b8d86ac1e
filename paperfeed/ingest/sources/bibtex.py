"""Read a reader's own BibTeX library (.bib) into papers, with bibtexparser 2.

An entry becomes an arXiv paper when it names one: `eprint` (with archivePrefix/eprinttype
arXiv, or an id that reads as one), an arxiv.org URL, an arXiv DOI (10.48550/arXiv.X), or
"arXiv:X" in journal/note/howpublished. Otherwise it gets a local id from its title. Titles,
authors and abstracts have simple TeX decoded ({\\"o} → ö, protective braces dropped, $math$
kept); "Last, First and Other, Name" becomes ["First Last", "Name Other"]; year and month
date the paper (first of the month, UTC; an unreadable year is ignored, not failed).
Entries bibtexparser cannot parse, duplicate keys and entries without a title are failures.
@string macros are resolved; @comment and @preamble are not records.

Called by `bulk_file.BulkFileSource` through the file-format registry; no database, no I/O
beyond the stream it is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import BinaryIO

import bibtexparser
from bibtexparser.model import Entry, ParsingFailedBlock

from paperfeed.errors import RECORD_ERRORS, BadRecord, InvalidInput
from paperfeed.ingest.normalize import (
    abs_url_for,
    clean_text,
    local_paper_id,
    parse_arxiv_id,
    pdf_url_for,
)
from paperfeed.ingest.sources.fields import (
    flip_name,
    read_abstract,
    read_categories,
    read_text,
    read_title,
    read_url,
    tex_to_text,
)
from paperfeed.ingest.sources.file_formats import (
    MAX_DOCUMENT_BYTES,
    UTF8_BOM,
    FileContext,
    Item,
    decode_legacy,
)
from paperfeed.models import Paper, RecordFailure, Version

_ARXIV_IN_TEXT = re.compile(
    r"arxiv[:\s/.]*(?:abs/|pdf/)?(\d{4}\.\d{4,5}(?:v\d+)?|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)",
    re.IGNORECASE,
)
_BRACE_OR_AND = re.compile(r"[{}]|\s+and\s+", re.IGNORECASE)
# BibTeX wraps long values onto indented lines; only a blank line starts a new paragraph.
_CONTINUATION = re.compile(r"\n[ \t]+")
_KEY_IN_RAW = re.compile(r"\s*@\w+\s*[{(]\s*([^,\s]+)")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        1,
    )
    for name in names
}


def read_bibtex(stream: BinaryIO, ctx: FileContext, skip: int) -> Iterator[Item]:
    """Entries and unparseable blocks, in file order, each a paper or a failure."""
    library = bibtexparser.parse_string(_decode(stream, ctx))
    records = [b for b in library.blocks if isinstance(b, Entry | ParsingFailedBlock)]
    ctx.total_records = len(records)
    for block in records[skip:]:
        line = (block.start_line or 0) + 1  # bibtexparser counts lines from 0
        if isinstance(block, ParsingFailedBlock):
            key = _KEY_IN_RAW.match(block.raw or "")
            position = f"line {line} ({key.group(1)[:80]})" if key else f"line {line}"
            reason = clean_text(str(block.error)).split(". Note")[0]
            reason = reason or "entry is not well-formed (an unclosed brace or quote?)"
            yield RecordFailure(ctx.source, position, f"bad BibTeX: {reason[:200]}")
            continue
        try:
            yield paper_from_entry(block, ctx.source)
        except RECORD_ERRORS as exc:
            yield RecordFailure(ctx.source, f"line {line} ({block.key[:80]})", str(exc))


def _decode(stream: BinaryIO, ctx: FileContext) -> str:
    """The file as text; lines that are not UTF-8 are read as Windows-1252 and noted."""
    data = stream.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(f"{ctx.path}: larger than {MAX_DOCUMENT_BYTES // 2**20} MiB")
    try:
        return data.removeprefix(UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError:
        pass
    lines = []
    for line_no, raw in enumerate(data.removeprefix(UTF8_BOM).splitlines(keepends=True), 1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            ctx.recoded.append(line_no)
            lines.append(decode_legacy(raw))
    return "".join(lines)


def paper_from_entry(entry: Entry, source: str) -> Paper:
    fields = {key.lower(): field.value for key, field in entry.fields_dict.items()}
    get = fields.get
    raw_title = get("title")
    title = read_title(tex_to_text(raw_title) if type(raw_title) is str else raw_title)
    arxiv_id, version = _arxiv_id_of(fields)
    published_at = _published_at(get("year"), get("month"))
    primary = read_text(get("primaryclass"), "primaryClass")
    url = read_url(get("url"))
    paper = Paper(
        id=arxiv_id or local_paper_id(title),
        title=title,
        abstract=read_abstract(_CONTINUATION.sub("\n", tex_to_text(get("abstract") or ""))),
        authors=split_bibtex_authors(get("author") or get("editor") or ""),
        categories=read_categories(primary),
        primary_category=primary,
        version=version,
        versions=[Version(version)] if version else [],
        published_at=published_at,
        journal_ref=_journal_ref(fields),
        doi=_doi(get("doi")),
        abs_url=url,
        source=source,
    )
    if arxiv_id:
        paper.abs_url = abs_url_for(arxiv_id)
        paper.pdf_url = pdf_url_for(arxiv_id)
    return paper


def split_bibtex_authors(text: str) -> list[str]:
    """ "Last, First and {Org Name} and First Last" → ["First Last", "Org Name", "First Last"]."""
    if not text.strip():
        return []
    names = []
    for part in _split_top_level_and(text):
        name = clean_text(tex_to_text(flip_name(part)))
        if name and name.lower() != "others":
            names.append(name)
    return names


def _split_top_level_and(text: str) -> list[str]:
    """Split on " and " outside braces, so {Barnes and Noble} stays one name."""
    parts, depth, start = [], 0, 0
    for match in _BRACE_OR_AND.finditer(text):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(0, depth - 1)
        elif depth == 0:
            parts.append(text[start : match.start()])
            start = match.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _arxiv_id_of(fields: dict[str, str]) -> tuple[str | None, int | None]:
    eprint = (fields.get("eprint") or "").strip()
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").strip().lower()
    if eprint and prefix in ("", "arxiv"):
        try:
            return parse_arxiv_id(eprint)
        except BadRecord:
            pass
    doi = fields.get("doi") or ""
    if "10.48550/arxiv." in doi.lower():
        return _id_in_text(doi.lower().split("10.48550/arxiv.", 1)[1], whole=True)
    url = fields.get("url") or ""
    if "arxiv.org/" in url.lower():
        found = _id_in_text(url.split("arxiv.org/", 1)[1].removeprefix("abs/").removeprefix("pdf/"))
        if found[0]:
            return found
    for key in ("journal", "note", "howpublished", "eprint", "booktitle"):
        value = fields.get(key)
        if value and "arxiv" in value.lower():
            match = _ARXIV_IN_TEXT.search(value)
            if match:
                return _id_in_text(match.group(1), whole=True)
    return None, None


def _id_in_text(text: str, whole: bool = False) -> tuple[str | None, int | None]:
    candidate = text.strip().split()[0] if text.strip() else ""
    if not whole:
        candidate = candidate.split("?", 1)[0].split("#", 1)[0]
    try:
        return parse_arxiv_id(candidate)
    except BadRecord:
        return None, None


def _published_at(year: str | None, month: str | None) -> datetime | None:
    if not year or not year.strip()[:4].isdigit():
        return None
    number = int(year.strip()[:4])
    if not 1000 <= number <= 2999:
        return None
    key = (month or "").strip().lower().rstrip(".")
    month_number = int(key) if key.isdigit() else _MONTHS.get(key, 1)
    if not 1 <= month_number <= 12:
        month_number = 1
    return datetime(number, month_number, 1, tzinfo=UTC)


def _journal_ref(fields: dict[str, str]) -> str | None:
    venue = fields.get("journal") or fields.get("booktitle")
    if not venue or "arxiv" in venue.lower() or venue.strip().lower() == "corr":
        return None
    parts = [tex_to_text(venue), fields.get("volume"), fields.get("pages"), fields.get("year")]
    return read_text(", ".join(p.strip() for p in parts if p and p.strip()), "journal")


def _doi(value: str | None) -> str | None:
    if not value:
        return None
    doi = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", "", value.strip(), flags=re.IGNORECASE)
    return read_text(doi, "doi")
