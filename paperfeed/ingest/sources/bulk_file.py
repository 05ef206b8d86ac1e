"""Import papers from a local file: detect its format, read it in batches, resume after a stop.

`BulkFileSource(path)` reads any format of `FILE_FORMATS` (listed by the CLI): generic
"jsonl" / "json" / "csv" (schema in `file_formats`), the "arxiv-snapshot" JSON lines, the
Hugging Face "hf-daily" archive or raw day response, and "bibtex" libraries. Gzip is read
transparently (recognised by its magic bytes, whatever the file is called).

Detection ("auto"): .bib/.bibtex → bibtex, .csv → csv; otherwise the content decides. A JSON
document ("[" or a multi-line "{") is hf-daily when its records hold a "paper" object, else
json; a file starting with "@" is bibtex; JSON lines are judged by their first readable
record: "date" + "response" → hf-daily, "authors_parsed" or "versions" + "submitter" →
arxiv-snapshot, anything else → jsonl.

Checkpoint (key "file:<resolved path>"): {"position": records consumed, "size", "mtime",
"format"} after each batch; resuming skips those records when the file's size, mtime and
format are unchanged, and starts over otherwise. A record is a line (JSON lines), a row
(csv), an array element (json, raw hf-daily), an entry (bibtex) or an archived hf-daily entry.

Called by the ingest runner; it never touches the database.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

import orjson

from paperfeed.errors import InvalidInput
from paperfeed.ingest.sources.arxiv_snapshot import read_snapshot_lines
from paperfeed.ingest.sources.bibtex import read_bibtex
from paperfeed.ingest.sources.file_formats import (
    FileContext,
    FileFormat,
    OpenedFile,
    iter_lines,
    read_csv,
    read_generic_lines,
    read_json_document,
)
from paperfeed.ingest.sources.hf_daily import read_hf_daily_file
from paperfeed.models import Batch, Paper, RecordFailure

log = logging.getLogger(__name__)

FILE_FORMATS: dict[str, FileFormat] = {
    f.name: f
    for f in (
        FileFormat("jsonl", "JSON lines, one paper per line (generic schema)", read_generic_lines),
        FileFormat("json", 'a JSON array of papers or {"papers": [...]}', read_json_document),
        FileFormat("csv", "CSV with a header row (generic schema)", read_csv),
        FileFormat(
            "arxiv-snapshot", "the arXiv metadata snapshot (JSON lines)", read_snapshot_lines
        ),
        FileFormat(
            "hf-daily",
            "Hugging Face daily papers: archive lines or one day's API response",
            read_hf_daily_file,
        ),
        FileFormat("bibtex", "a BibTeX library (.bib)", read_bibtex),
    )
}

_EXTENSIONS = {".bib": "bibtex", ".bibtex": "bibtex", ".csv": "csv"}
_PEEK_LINES = 200
_PEEK_BYTES = 64 * 1024
# Hugging Face entries carry a "paper" object ('paper' in the Python-literal archive form).
_HF_ENTRY = re.compile(rb"[\"']paper[\"']\s*:\s*\{")


class BulkFileSource:
    """Papers (and for hf-daily, signals) from one local file; `name` is the detected format."""

    incremental = False

    def __init__(self, path: Path, *, file_format: str = "auto", batch_size: int = 1000) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            problem = "not a file" if self.path.exists() else "no such file"
            raise InvalidInput(f"{self.path}: {problem}")
        if batch_size < 1:
            raise InvalidInput("batch_size must be at least 1")
        if file_format == "auto":
            file_format = detect_format(self.path)
        if file_format not in FILE_FORMATS:
            known = ", ".join(["auto", *FILE_FORMATS])
            raise InvalidInput(f"unknown file format {file_format!r} (known: {known})")
        self.name = file_format
        self.batch_size = batch_size
        self._format = FILE_FORMATS[file_format]

    def checkpoint_key(self) -> str:
        return f"file:{self.path.resolve()}"

    def batches(self, checkpoint: dict | None) -> Iterator[Batch]:
        try:
            stat = self.path.stat()
            opened = OpenedFile(self.path)
        except OSError as exc:
            raise InvalidInput(f"{self.path}: cannot open it ({exc.strerror or exc})") from exc
        state = {"size": stat.st_size, "mtime": stat.st_mtime, "format": self.name}
        skip = self._resume_position(checkpoint, state)
        ctx = FileContext(self.path, self.name, stat.st_mtime)
        with opened:
            yield from self._read(opened, ctx, skip, state)

    def _resume_position(self, checkpoint: dict | None, state: dict) -> int:
        if not checkpoint:
            return 0
        position = checkpoint.get("position")
        same_file = all(checkpoint.get(k) == v for k, v in state.items())
        if same_file and type(position) is int and position >= 0:
            log.info("file resume path=%s position=%d", self.path, position)
            return position
        log.info("file changed since checkpoint, starting over path=%s", self.path)
        return 0

    def _read(
        self, opened: OpenedFile, ctx: FileContext, skip: int, state: dict
    ) -> Iterator[Batch]:
        size = self.batch_size
        consumed = skip
        yielded = False
        batch = Batch()
        items = self._format.read(opened.stream, ctx, skip)
        try:
            for item in items:
                consumed += 1
                if isinstance(item, Paper):
                    batch.papers.append(item)
                elif isinstance(item, tuple):
                    batch.papers.append(item[0])
                    batch.signals.extend(item[1])
                else:
                    self._note_failure(item)
                    batch.failures.append(item)
                if len(batch.papers) >= size or len(batch.failures) >= size:
                    yield self._finish(batch, ctx, opened, consumed, state)
                    yielded = True
                    batch = Batch()
        except (OSError, EOFError, zlib.error) as exc:
            raise InvalidInput(
                f"{self.path}: cannot read on after record {consumed} ({exc})"
            ) from exc
        if batch.papers or batch.failures or not yielded:
            batch = self._finish(batch, ctx, opened, consumed, state, final=True)
            if not yielded and not batch.papers and not batch.failures:
                batch.note = self._empty_note(skip)
            yield batch

    def _finish(
        self,
        batch: Batch,
        ctx: FileContext,
        opened: OpenedFile,
        consumed: int,
        state: dict,
        final: bool = False,
    ) -> Batch:
        batch.checkpoint = {"position": consumed, **state}
        batch.progress_done = consumed  # counts what an earlier, interrupted run read too
        if final or ctx.total_records is not None:
            batch.progress_total = ctx.total_records if not final else consumed
        else:
            read = opened.bytes_read()
            if read:
                batch.progress_total = max(consumed, int(consumed * state["size"] / read))
        if ctx.recoded:
            first = ctx.recoded[0]
            where = "the file" if first == 0 else f"{len(ctx.recoded)} line(s), first line {first}"
            batch.note = f"{where} not valid UTF-8, read as Windows-1252"
            log.warning("non-utf8 input path=%s lines=%s", self.path, ctx.recoded[:20])
            ctx.recoded.clear()
        return batch

    def _note_failure(self, failure: RecordFailure) -> None:
        log.warning(
            "record skipped path=%s position=%r reason=%r",
            self.path,
            failure.position,
            failure.reason,
        )

    def _empty_note(self, skip: int) -> str:
        if skip:
            return f"all {skip} records of {self.path.name} were read before; nothing new"
        return f"no records in {self.path.name}"


def detect_format(path: Path) -> str:
    """The format name of a file, from its extension or, failing that, its first records."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".gzip")]
    extension = suffixes[-1] if suffixes else ""
    if extension in _EXTENSIONS:
        return _EXTENSIONS[extension]
    try:
        with OpenedFile(path) as opened:
            return _detect_from_content(opened, extension, path)
    except (OSError, EOFError, zlib.error) as exc:
        raise InvalidInput(f"{path}: cannot read it ({exc})") from exc


def _detect_from_content(opened: OpenedFile, extension: str, path: Path) -> str:
    head = opened.stream.peek(_PEEK_BYTES)[:_PEEK_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        return "json" if extension == ".json" else "jsonl"
    if _looks_like_bibtex(head):
        return "bibtex"
    if head.startswith(b"["):
        return _document_format(head)
    for _, raw in _first_lines(opened):
        try:
            record = orjson.loads(raw) if raw is not None else None
        except orjson.JSONDecodeError:
            record = None
        if type(record) is dict:
            return _lines_format(record)
        if raw is not None and _opens_document(raw):
            return _document_format(head)  # a JSON object spread over several lines
    if extension in (".jsonl", ".ndjson", ".json"):
        return "jsonl" if extension != ".json" else "json"
    raise InvalidInput(
        f"{path}: cannot tell its format from its first lines; "
        f"pass one of: {', '.join(FILE_FORMATS)}"
    )


def _first_lines(opened: OpenedFile) -> Iterator[tuple[int, bytes | None]]:
    for count, item in enumerate(iter_lines(opened.stream), 1):
        yield item
        if count >= _PEEK_LINES:
            return


def _looks_like_bibtex(head: bytes) -> bool:
    """The first line that is not blank or a % comment starts an @entry."""
    for line in head.splitlines()[:100]:
        line = line.strip()
        if line and not line.startswith(b"%"):
            return line.startswith(b"@")
    return False


def _opens_document(first_line: bytes) -> bool:
    line = first_line.strip()
    return line == b"{" or (line.startswith(b"{") and line.endswith((b"[", b"{")))


def _document_format(head: bytes) -> str:
    if _HF_ENTRY.search(head):
        return "hf-daily"
    return "json"


def _lines_format(record: dict) -> str:
    if "date" in record and "response" in record:
        return "hf-daily"
    if "authors_parsed" in record or ("versions" in record and "submitter" in record):
        return "arxiv-snapshot"
    return "jsonl"
