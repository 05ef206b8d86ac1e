"""Reading paper files: opening (gzip), bounded lines, encodings, and the generic formats.

Each reader takes an open binary stream and yields one item per record, in file order:
a `Paper`, a `(Paper, [Signal])` pair, or a `RecordFailure` for a record it could not read.
`skip` records are passed over first (cheaply, without converting them) so a resumed import
continues where it stopped. Readers raise `InvalidInput` naming the file only when the whole
file is unusable. Called by `bulk_file.BulkFileSource`; never touches the database.

Generic schema (jsonl, json, csv) — one record per paper, every field optional but the title:

- `arxiv_id` or `id`: an arXiv id with or without version ("2401.00974v2", "hep-th/9901001",
  an arxiv.org URL). Absent or not an arXiv id: the paper gets a local id from its title.
- `title` (required); `abstract` or `summary`.
- `authors`: a list of names, a list of {"name": ...}, or one string "A, B and C" or
  "Last, First; Other, Name".
- `categories`: a list or a space/comma-separated string; `primary_category` (default: the
  first category).
- `published` / `published_date` / `published_at` and `updated` / `updated_date` /
  `updated_at`: ISO 8601 ("2024-01-01", "2024-01-01T23:33:56Z"), "2024-01-01 23:33:56 UTC" or
  RFC 2822; without a zone they are read as UTC.
- `version` (2, "2" or "v2"; the id's own version wins); `versions` as in the arXiv snapshot
  ([{"version": "v1", "created": "..."}]). Without `versions`, an arXiv paper's v1 is dated
  `published`, and a later version `updated` (as in the arXiv API).
- `comment`, `journal_ref`, `doi`, `pdf_url`, `abs_url`, `code_url`, `project_url`.
- jsonl: one JSON object per line. json: an array of objects, or an object with a "papers"
  array. csv: a header row naming these fields (case and spaces/hyphens in names ignored).

Limits: a line longer than 4 MiB, a title over 5,000 characters or an abstract over 200,000
is a failed record; a whole-document file (json, hf-daily array, bibtex) may be 512 MiB at most.
A line that is not valid UTF-8 is read as Windows-1252 and noted (see `FileContext.recoded`).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from paperfeed.errors import RECORD_ERRORS, BadRecord, InvalidInput
from paperfeed.ingest.normalize import abs_url_for, local_paper_id, parse_arxiv_id, pdf_url_for
from paperfeed.ingest.sources.fields import (
    read_abstract,
    read_authors,
    read_categories,
    read_datetime,
    read_text,
    read_title,
    read_url,
    read_version,
    read_versions,
)
from paperfeed.models import Paper, RecordFailure, Signal, Version

MAX_LINE_BYTES = 4 * 1024 * 1024
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = codecs.BOM_UTF8
_BUFFER_BYTES = 1024 * 1024

Item = Paper | tuple[Paper, list[Signal]] | RecordFailure


@dataclass(slots=True)
class FileContext:
    """What a reader knows of its file; readers add what they learn while reading."""

    path: Path
    source: str
    mtime: float
    #: Exact record count, set by readers that hold the whole document (for progress bars).
    total_records: int | None = None
    #: Line numbers that were not UTF-8 and were read as Windows-1252 (0: the whole file).
    recoded: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FileFormat:
    name: str
    description: str
    read: Callable[[io.BufferedReader[Any], FileContext, int], Iterator[Item]]  # OpenedFile.stream


class OpenedFile:
    """A file opened for reading, gunzipped transparently when it starts with gzip's magic."""

    def __init__(self, path: Path) -> None:
        # What open(path, "rb", buffering=_BUFFER_BYTES) makes, spelt out: typeshed types that
        # call's result as a BinaryIO, which has no peek().
        self.raw = io.BufferedReader(io.FileIO(path), _BUFFER_BYTES)  # closed by close()
        if self.raw.peek(2)[:2] == GZIP_MAGIC:
            # A buffer over the file itself or over a GzipFile: either can peek().
            self.stream: io.BufferedReader[Any] = io.BufferedReader(
                gzip.GzipFile(fileobj=self.raw, mode="rb"), _BUFFER_BYTES
            )
        else:
            self.stream = self.raw

    def bytes_read(self) -> int:
        """How far into the file on disk reading has got (compressed bytes for gzip)."""
        return self.raw.tell()

    def close(self) -> None:
        self.stream.close()
        self.raw.close()

    def __enter__(self) -> OpenedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_lines(stream: BinaryIO, *, keep_blank: bool = False) -> Iterator[tuple[int, bytes | None]]:
    """(line number, raw bytes) per line, 1-based; None for a line over MAX_LINE_BYTES.

    A BOM on the first line is dropped. Reading is bounded: an over-long line is skipped in
    chunks, never held whole, so a file with no newline cannot exhaust memory.
    """
    readline = stream.readline
    line_no = 0
    while True:
        raw = readline(MAX_LINE_BYTES)
        if not raw:
            return
        line_no += 1
        if line_no == 1 and raw.startswith(UTF8_BOM):
            raw = raw[3:]
        if len(raw) >= MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while True:
                rest = readline(_BUFFER_BYTES)
                if not rest or rest.endswith(b"\n"):
                    break
            yield line_no, None
        elif keep_blank or not raw.isspace():
            yield line_no, raw


def decode_legacy(raw: bytes) -> str:
    """Bytes that are not UTF-8, read as Windows-1252 (Latin-1 for its five undefined bytes)."""
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _loads_or_recoded(data: bytes) -> tuple[object, bool]:
    """Parse JSON bytes; if they are not UTF-8, retry them as Windows-1252.

    Returns (value, whether it was recoded); raises orjson.JSONDecodeError with the first error.
    """
    try:
        return orjson.loads(data), False
    except orjson.JSONDecodeError as exc:
        error = exc
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return orjson.loads(decode_legacy(data)), True
        except orjson.JSONDecodeError as exc:
            error = exc
    raise error


def load_json_line(raw: bytes, line_no: int, ctx: FileContext) -> object:
    """Parse one JSON line; a non-UTF-8 line is re-read as Windows-1252 and noted in ctx.

    Raises BadRecord with a short reason when the line is not JSON.
    """
    try:
        value, recoded = _loads_or_recoded(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRecord(f"not a JSON record ({str(exc)[:120]})") from None
    if recoded:
        ctx.recoded.append(line_no)
    return value


def load_json_document(stream: BinaryIO, ctx: FileContext) -> object:
    """Parse a whole JSON document (at most MAX_DOCUMENT_BYTES); InvalidInput if unusable."""
    data = stream.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(
            f"{ctx.path}: larger than {MAX_DOCUMENT_BYTES // 2**20} MiB; "
            "split it or convert it to JSON lines"
        )
    try:
        value, recoded = _loads_or_recoded(data.removeprefix(UTF8_BOM))
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{ctx.path}: not valid JSON ({str(exc)[:120]})") from None
    if recoded:
        ctx.recoded.append(0)
    return value


def skip_records(items: Iterator, count: int) -> None:
    """Consume `count` items of an iterator without looking at them."""
    if count:
        deque(islice(items, count), maxlen=0)


# --- JSON lines (generic schema and arXiv snapshot) ----------------------------------------


def read_json_lines(
    stream: BinaryIO,
    ctx: FileContext,
    skip: int,
    convert: Callable[[dict, str], Paper],
) -> Iterator[Item]:
    """One record per non-blank line; `convert` turns a JSON object into a Paper."""
    source = ctx.source
    lines = iter_lines(stream)
    skip_records(lines, skip)
    for line_no, raw in lines:
        if raw is None:
            yield RecordFailure(
                source, f"line {line_no}", f"line is longer than {MAX_LINE_BYTES // 2**20} MiB"
            )
            continue
        try:
            record = load_json_line(raw, line_no, ctx)
            if type(record) is not dict:
                raise BadRecord("not a JSON object")
            yield convert(record, source)
        except RECORD_ERRORS as exc:
            yield RecordFailure(source, f"line {line_no}", str(exc))


def read_generic_lines(stream: BinaryIO, ctx: FileContext, skip: int) -> Iterator[Item]:
    return read_json_lines(stream, ctx, skip, paper_from_fields)


# --- JSON document and CSV (generic schema) ------------------------------------------------


def read_json_document(stream: BinaryIO, ctx: FileContext, skip: int) -> Iterator[Item]:
    """An array of paper objects, or an object with a "papers" array."""
    document = load_json_document(stream, ctx)
    records = document.get("papers") if type(document) is dict else document
    if type(records) is not list:
        raise InvalidInput(
            f'{ctx.path}: expected a JSON array of papers or an object with a "papers" array'
        )
    ctx.total_records = len(records)
    source = ctx.source
    for index in range(skip, len(records)):
        record = records[index]
        try:
            if type(record) is not dict:
                raise BadRecord("not a JSON object")
            yield paper_from_fields(record, source)
        except RECORD_ERRORS as exc:
            yield RecordFailure(source, f"record {index + 1}", str(exc))


def read_csv(stream: BinaryIO, ctx: FileContext, skip: int) -> Iterator[Item]:
    """A header row naming generic fields, then one paper per row."""
    source = ctx.source
    rows = _csv_rows(stream, ctx)
    header = next(rows, None)
    if header is None:
        return
    if isinstance(header, RecordFailure) or "title" not in header:
        raise InvalidInput(f"{ctx.path}: the first row must be a header with a 'title' column")
    skip_records(rows, skip)
    for row_no, row in enumerate(rows, skip + 1):
        if isinstance(row, RecordFailure):
            yield row
            continue
        try:
            yield paper_from_fields({k: v for k, v in zip(header, row, strict=False) if v}, source)
        except RECORD_ERRORS as exc:
            yield RecordFailure(source, f"row {row_no}", str(exc))


def _csv_rows(stream: BinaryIO, ctx: FileContext) -> Iterator[list[str] | RecordFailure]:
    """The header (normalised names), then each data row or a failure, in file order."""
    pending: list[RecordFailure] = []

    def text_lines() -> Iterator[str]:
        for line_no, raw in iter_lines(stream, keep_blank=True):
            if raw is None:
                pending.append(RecordFailure(ctx.source, f"line {line_no}", "line is too long"))
                yield "\n"
                continue
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                ctx.recoded.append(line_no)
                yield decode_legacy(raw)

    reader = csv.reader(text_lines())
    header_done = False
    while True:
        row: list[str] | RecordFailure
        try:
            row = next(reader)
        except StopIteration:
            yield from pending
            return
        except csv.Error as exc:
            row = RecordFailure(ctx.source, f"line {reader.line_num}", f"bad CSV row ({exc})")
        yield from pending
        pending.clear()
        if isinstance(row, list) and not any(cell.strip() for cell in row):
            continue  # blank line
        if not header_done and isinstance(row, list):
            header_done = True
            row = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in row]
        yield row


# --- record conversion ---------------------------------------------------------------------

_PUBLISHED_KEYS = ("published", "published_date", "published_at")
_UPDATED_KEYS = ("updated", "updated_date", "updated_at")


def paper_from_fields(record: dict, source: str) -> Paper:
    """A Paper from a record in the generic schema (see the module docstring)."""
    get = record.get
    title = read_title(get("title"))
    arxiv_id, version = _arxiv_id_of(get("arxiv_id") or get("id"))
    if version is None:
        version = read_version(get("version"))
    published_at = read_datetime(_first(record, _PUBLISHED_KEYS), "published")
    updated_at = read_datetime(_first(record, _UPDATED_KEYS), "updated")
    versions = read_versions(get("versions"))
    if versions:
        version = max(version or 0, versions[-1].number)
    elif arxiv_id:
        versions = _inferred_versions(version, published_at, updated_at)
    categories = read_categories(get("categories"))
    paper = Paper(
        id=arxiv_id or local_paper_id(title),
        title=title,
        abstract=read_abstract(get("abstract") or get("summary")),
        authors=read_authors(get("authors")),
        categories=categories,
        primary_category=read_text(get("primary_category"), "primary_category")
        or (categories[0] if categories else None),
        version=version,
        versions=versions,
        published_at=published_at,
        updated_at=updated_at,
        comment=read_text(get("comment"), "comment"),
        journal_ref=read_text(get("journal_ref"), "journal_ref"),
        doi=read_text(get("doi"), "doi"),
        abs_url=read_url(get("abs_url")),
        pdf_url=read_url(get("pdf_url")),
        code_url=read_url(get("code_url")),
        project_url=read_url(get("project_url")),
        source=source,
    )
    if arxiv_id:
        paper.abs_url = paper.abs_url or abs_url_for(arxiv_id)
        paper.pdf_url = paper.pdf_url or pdf_url_for(arxiv_id)
    return paper


def _arxiv_id_of(raw: object) -> tuple[str | None, int | None]:
    if raw is None or raw == "":
        return None, None
    if type(raw) is not str:
        raise BadRecord("id is not text")
    try:
        return parse_arxiv_id(raw)
    except BadRecord:
        return None, None  # not an arXiv id: the paper is known by its title


def _inferred_versions(
    version: int | None, published_at: datetime | None, updated_at: datetime | None
) -> list[Version]:
    # arXiv's own convention: `published` dates v1 and `updated` the version given.
    versions = [Version(1, published_at)] if published_at else []
    if version and version > 1:
        versions.append(Version(version, updated_at))
    return versions


def _first(record: dict, keys: tuple[str, ...]) -> object:
    for key in keys:
        value = record.get(key)
        if value:
            return value
    return None
