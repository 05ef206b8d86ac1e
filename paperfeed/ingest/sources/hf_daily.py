"""Hugging Face daily papers: the live `api/daily_papers` source and its archive file formats.

`parse_daily_papers` turns one day's list of entries into papers (`source="hf-daily"`) and
engagement signals (`source="hf"`: kinds "upvotes", "comments", "github_stars"); the live
`HfDailySource`, and `BulkFileSource` for archive/raw files, both use it. The API's schema
drifted over the years (mediaUrl → mediaUrls, top-level summary, githubRepo/githubStars,
organization, ai_summary...); only `paper.id` and a title are required, everything else is
read when present. Some archived entries are Python-literal strings instead of JSON objects:
they are decoded with `ast.literal_eval` (never eval) and reported only if that fails too.

Sources only fetch and parse: nothing here touches the database.
"""

from __future__ import annotations

import ast
import io
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, BinaryIO

import orjson

from paperfeed.errors import RECORD_ERRORS, BadRecord, InvalidInput, SourceUnavailable
from paperfeed.ingest.http import HttpResponse, PoliteClient
from paperfeed.ingest.normalize import (
    abs_url_for,
    clean_text,
    parse_arxiv_id,
    pdf_url_for,
    plausible_first_date,
)
from paperfeed.ingest.sources.fields import (
    read_abstract,
    read_authors,
    read_count,
    read_datetime,
    read_title,
    read_url,
)
from paperfeed.ingest.sources.file_formats import (
    FileContext,
    Item,
    iter_lines,
    load_json_document,
    load_json_line,
)
from paperfeed.models import Batch, Paper, RecordFailure, Signal

log = logging.getLogger(__name__)

SOURCE_NAME = "hf-daily"
SIGNAL_SOURCE = "hf"
PAGE_LIMIT = 100
MAX_PAGES = 20  # a day has had at most 50 entries; this only stops a server that never ends
MAX_LITERAL_CHARS = 2_000_000
# An archived day's upvotes are a snapshot taken that day: dated at its last second, after
# every entry of the day was listed (each entry's submittedOnDailyAt falls on that date).
ARCHIVE_OBSERVED_TIME = time(23, 59, 59, tzinfo=UTC)
# A day's upvotes keep coming for about two days after it is listed; past that, a fetch of it
# is a backfill, stamped with the day rather than the fetch (observed_at_for).
LIVE_FOR = timedelta(days=2)

_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_daily_papers(entries: list, observed_at: datetime, position_prefix: str) -> Batch:
    """Papers, signals and failures of one day's entries; one bad entry fails alone.

    Failure positions read "<position_prefix> entry <n>" (n from 1).
    """
    batch = Batch()
    for index, entry in enumerate(entries, 1):
        try:
            paper, signals = parse_daily_entry(entry, observed_at)
        except RECORD_ERRORS as exc:
            position = f"{position_prefix} entry {index}".strip()
            log.warning("hf entry skipped position=%r reason=%r", position, str(exc))
            batch.failures.append(RecordFailure(SOURCE_NAME, position, str(exc)))
            continue
        batch.papers.append(paper)
        batch.signals.extend(signals)
    return batch


def parse_daily_entry(entry: object, observed_at: datetime) -> tuple[Paper, list[Signal]]:
    """One entry → (paper, its signals observed at `observed_at`); BadRecord if unusable."""
    if type(entry) is str:
        entry = _decode_text_entry(entry)
    if type(entry) is not dict:
        raise BadRecord("entry is not an object")
    paper_fields = entry.get("paper")
    if type(paper_fields) is not dict:
        raise BadRecord("entry has no paper object")
    raw_id = paper_fields.get("id")
    if type(raw_id) is not str:
        raise BadRecord("paper has no id")
    arxiv_id, version = parse_arxiv_id(raw_id)
    get = paper_fields.get
    paper = Paper(
        id=arxiv_id,
        title=read_title(get("title") or entry.get("title")),
        abstract=read_abstract(get("summary") or entry.get("summary")),
        authors=read_authors(get("authors")),
        version=version,
        published_at=plausible_first_date(
            arxiv_id,
            read_datetime(get("publishedAt") or entry.get("publishedAt"), "publishedAt"),
        ),
        abs_url=abs_url_for(arxiv_id),
        pdf_url=pdf_url_for(arxiv_id),
        code_url=read_url(get("githubRepo")),
        project_url=read_url(get("projectPage")),
        source=SOURCE_NAME,
    )
    signals = []
    for kind, value in (
        ("upvotes", get("upvotes")),
        ("comments", entry.get("numComments")),
        ("github_stars", get("githubStars")),
    ):
        number = read_count(value)
        if number is not None:
            signals.append(Signal(arxiv_id, SIGNAL_SOURCE, kind, number, observed_at))
    return paper, signals


def _decode_text_entry(text: str) -> object:
    """An entry archived as text: a JSON object, or a Python literal dict (True/None, quotes)."""
    if len(text) > MAX_LITERAL_CHARS:
        raise BadRecord(f"entry is text longer than {MAX_LITERAL_CHARS} characters")
    stripped = text.strip()
    if stripped.startswith('{"'):
        try:
            return orjson.loads(stripped)
        except orjson.JSONDecodeError:
            pass
    try:
        return ast.literal_eval(stripped)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise BadRecord("entry is text that is neither JSON nor a Python literal") from None


def entries_of(response: object) -> list:
    """The entry list of a response: a list, or the archive's {"status", "data": [...]} wrapper."""
    if type(response) is list:
        return response
    if type(response) is dict and type(response.get("data")) is list:
        return response["data"]
    raise BadRecord("response is not a list of entries")


class HfDailySource:
    """Papers and upvote/comment/star signals listed on Hugging Face for each of `dates`.

    Checkpoint (key "hf-daily"): {"last_date", "range": [first, last], "complete"}, saved
    after each date. Resume rule: a checkpoint continues only an unfinished run over the same
    range (same first and last requested date): dates up to `last_date` are skipped. A finished
    run, or any other range, starts from the first date again, since re-fetching a day is how
    its upvotes are refreshed.
    """

    name = SOURCE_NAME
    incremental = False  # re-fetching a day is how its upvotes are refreshed

    def __init__(
        self,
        client: PoliteClient,
        *,
        dates: list[date],
        endpoint: str = "https://huggingface.co",
        clock: Callable[[], datetime] = now_utc,
        batch_size: int = 500,
    ) -> None:
        if not dates:
            raise InvalidInput("no dates given to fetch Hugging Face daily papers for")
        if batch_size < 1:
            raise InvalidInput("batch_size must be at least 1")
        self._client = client
        self._dates = sorted(set(dates))
        self._url = endpoint.rstrip("/") + "/api/daily_papers"
        self._clock = clock
        self.batch_size = batch_size

    def checkpoint_key(self) -> str:
        return SOURCE_NAME

    def batches(self, checkpoint: dict | None) -> Iterator[Batch]:
        previous = checkpoint if self._resumes(checkpoint) else None
        todo = self._dates
        if previous:
            todo = [d for d in todo if d.isoformat() > previous["last_date"]]
            log.info("hf resume last_date=%s remaining_dates=%d", previous["last_date"], len(todo))
        for day in todo:
            entries = self._fetch_day(day)
            observed_at = observed_at_for(day, self._clock())
            parsed = parse_daily_papers(entries, observed_at, day.isoformat())
            state = {
                "last_date": day.isoformat(),
                "range": self._range(),
                "complete": day == self._dates[-1],
            }
            log.info(
                "hf day fetched date=%s entries=%d papers=%d failures=%d",
                day,
                len(entries),
                len(parsed.papers),
                len(parsed.failures),
            )
            note = None if entries else f"no papers listed for {day.isoformat()}"
            yield from _split(parsed, self.batch_size, state, previous, note)
            previous = state

    def _range(self) -> list[str]:
        return [self._dates[0].isoformat(), self._dates[-1].isoformat()]

    def _resumes(self, checkpoint: dict | None) -> bool:
        return (
            isinstance(checkpoint, dict)
            and checkpoint.get("range") == self._range()
            and not checkpoint.get("complete")
            and isinstance(checkpoint.get("last_date"), str)
        )

    def _fetch_day(self, day: date) -> list:
        """All entries of one day, following pages while a page comes back full."""
        entries: list = []
        previous_body = None
        for page in range(MAX_PAGES):
            params = {"date": day.isoformat(), "limit": str(PAGE_LIMIT)}
            if page:
                params["p"] = str(page)
            response = self._client.get(self._url, params)
            if response.body == previous_body:
                break  # a server that ignores `p` repeats its first page: that is all there is
            items = _entries_from_response(response)
            entries.extend(items)
            if len(items) < PAGE_LIMIT:
                break
            previous_body = response.body
        return entries


def _entries_from_response(response: HttpResponse) -> list:
    if response.status != 200:
        raise SourceUnavailable(f"{response.url}: HTTP {response.status}{_error_detail(response)}")
    try:
        body = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        raise SourceUnavailable(
            f"{response.url}: answer is not JSON (starts {response.body[:40]!r})"
        ) from None
    if type(body) is not list:
        raise SourceUnavailable(
            f"{response.url}: answer is not a list of papers{_error_detail(response)}"
        )
    return body


def _error_detail(response: HttpResponse) -> str:
    try:
        body = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return ""
    if type(body) is dict and type(body.get("error")) is str:
        return f" ({clean_text(body['error'][:200])})"
    return ""


def _split(
    parsed: Batch, size: int, state: dict, previous: dict | None, note: str | None
) -> Iterator[Batch]:
    """One day's batch cut to `size` papers; only the last piece carries the day's checkpoint."""
    papers = parsed.papers
    if len(papers) <= size:
        parsed.checkpoint = state
        parsed.note = note
        yield parsed
        return
    for start in range(0, len(papers), size):
        chunk = papers[start : start + size]
        ids = {p.id for p in chunk}
        last = start + size >= len(papers)
        yield Batch(
            papers=chunk,
            signals=[s for s in parsed.signals if s.paper_id in ids],
            failures=parsed.failures if last else [],
            checkpoint=state if last else previous,
        )


# --- archive files -----------------------------------------------------------------------


def read_hf_daily_file(
    stream: io.BufferedReader[Any], ctx: FileContext, skip: int
) -> Iterator[Item]:
    """An archive (one day per line: {"date", "response"}) or a raw day (a JSON array)."""
    head = stream.peek(64 * 1024)[: 64 * 1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        return _read_raw_day(stream, ctx, skip)
    return _read_archive(stream, ctx, skip)


def _read_raw_day(stream: BinaryIO, ctx: FileContext, skip: int) -> Iterator[Item]:
    """One day's response as the API returned it, observed on the day in the file's name."""
    try:
        entries = entries_of(load_json_document(stream, ctx))
    except BadRecord:
        raise InvalidInput(f"{ctx.path}: not a Hugging Face daily-papers response") from None
    found = _DATE_IN_NAME.search(ctx.path.name)
    if found:
        observed_at = _archive_observed_at(found.group(1))
    else:
        observed_at = datetime.fromtimestamp(ctx.mtime, UTC)
    ctx.total_records = len(entries)
    for index in range(skip, len(entries)):
        try:
            yield parse_daily_entry(entries[index], observed_at)
        except RECORD_ERRORS as exc:
            yield RecordFailure(ctx.source, f"entry {index + 1}", str(exc))


def _read_archive(stream: BinaryIO, ctx: FileContext, skip: int) -> Iterator[Item]:
    """Each entry of each day line is a record; a line that cannot be read is one record."""
    consumed = 0
    for line_no, raw in iter_lines(stream):
        try:
            if raw is None:
                raise BadRecord("line is too long")
            day = load_json_line(raw, line_no, ctx)
            if type(day) is not dict:
                raise BadRecord("not a JSON object")
            # a line may also be the bare {"status", "date", "data": [...]} wrapper
            entries = entries_of(day.get("response", day))
            observed_at = _archive_observed_at(day.get("date"))
        except RECORD_ERRORS as exc:
            consumed += 1
            if consumed > skip:
                yield RecordFailure(ctx.source, f"line {line_no}", str(exc))
            continue
        for index, entry in enumerate(entries, 1):
            consumed += 1
            if consumed <= skip:
                continue
            try:
                yield parse_daily_entry(entry, observed_at)
            except RECORD_ERRORS as exc:
                position = f"line {line_no} ({day['date']}) entry {index}"
                yield RecordFailure(ctx.source, position, str(exc))


def observed_at_for(day: date, now: datetime) -> datetime:
    """When a fetched day's counts count as seen: now for a day still live (within LIVE_FOR
    of its end), else the end of the day plus LIVE_FOR. Upvotes of a paper listed ten months
    ago mostly came then; stamped "now", a backfill made them look like +183 in 24 hours."""
    end = datetime.combine(day + timedelta(days=1), time(), UTC)
    return min(now, end + LIVE_FOR)


def _archive_observed_at(value: object) -> datetime:
    if type(value) is not str:
        raise BadRecord("day has no date")
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise BadRecord(f"unreadable date: {value[:40]!r}") from None
    return datetime.combine(day, ARCHIVE_OBSERVED_TIME)
