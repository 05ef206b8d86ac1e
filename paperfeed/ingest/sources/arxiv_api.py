"""The arXiv API source: look papers up by id, or page through a search query.

`ingest.run` drives it like any Source (the CLI builds it from `--ids`/`--query` and
`--endpoint`). It asks `export.arxiv.org/api/query` for Atom feeds and turns each entry into a
Paper. It never writes to the database and never sends more requests than the paging needs:
the caller's PoliteClient does the pacing (arXiv asks for 3 s between calls).

arXiv reports a bad request as an Atom feed holding one entry whose id is `…/api/errors#…`
(usually with HTTP 400, sometimes 200); that becomes InvalidInput carrying arXiv's own words.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from xml.etree.ElementTree import Element

from paperfeed.errors import RECORD_ERRORS, BadRecord, InvalidInput, SourceUnavailable
from paperfeed.ingest.http import HttpResponse, PoliteClient
from paperfeed.ingest.normalize import (
    abs_url_for,
    clean_abstract,
    clean_text,
    parse_arxiv_id,
    parse_categories,
    parse_datetime,
    pdf_url_for,
)
from paperfeed.ingest.sources.atom import (
    ATOM,
    NS,
    child_text,
    entry_author_names,
    entry_category_terms,
    entry_links,
    local_name,
    parse_xml_document,
)
from paperfeed.models import Batch, Paper, RecordFailure, Version

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://export.arxiv.org/api/query"
# arXiv refuses more than 2000 results in one call; it suggests far fewer.
MAX_PAGE_SIZE = 2000
# Fixed so every request has the same shape (and replays match): arXiv's own defaults.
SORT_BY = "relevance"
SORT_ORDER = "descending"


@dataclass(slots=True, frozen=True)
class _Page:
    """One API answer: its entries and the total number of results arXiv reports."""

    entries: list[Element]
    total_results: int


class ArxivApiSource:
    """Papers from the arXiv API, either an id list (`ids`) or a search (`query`), not both.

    `max_results` caps how many results are fetched (for ids: how many ids are looked up);
    `page_size` is the number of results (or ids) per request.
    """

    name = "arxiv-api"
    incremental = False

    def __init__(
        self,
        client: PoliteClient,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        ids: list[str] | None = None,
        query: str | None = None,
        page_size: int = 100,
        max_results: int | None = None,
        batch_size: int = 500,
    ) -> None:
        if (ids is None) == (query is None):
            raise InvalidInput("arXiv API: give either ids or a query, not both or neither")
        if ids is not None:
            ids = [i.strip() for i in ids if i and i.strip()]
            if not ids:
                raise InvalidInput("arXiv API: the id list is empty")
        if query is not None and not query.strip():
            raise InvalidInput("arXiv API: the query is empty")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidInput(f"arXiv API: page_size must be 1..{MAX_PAGE_SIZE}, not {page_size}")
        if max_results is not None and max_results < 1:
            raise InvalidInput(f"arXiv API: max_results must be at least 1, not {max_results}")
        if batch_size < 1:
            raise InvalidInput(f"arXiv API: batch_size must be at least 1, not {batch_size}")
        self.client = client
        self.endpoint = endpoint
        self.ids = ids[:max_results] if ids is not None and max_results else ids
        self.query = query.strip() if query is not None else None
        self.page_size = page_size
        self.max_results = max_results
        self.batch_size = batch_size

    def checkpoint_key(self) -> str | None:
        # An id lookup is one short pass; only a paged query is worth resuming.
        return None if self.query is None else f"arxiv-api:query:{self.query}"

    def batches(self, checkpoint: dict | None) -> Iterator[Batch]:
        if self.ids is not None:
            yield from self._id_batches()
        else:
            yield from self._query_batches(_start_from(checkpoint))

    # -- id lookup -------------------------------------------------------------------------

    def _id_batches(self) -> Iterator[Batch]:
        assert self.ids is not None
        for offset in range(0, len(self.ids), self.page_size):
            chunk = self.ids[offset : offset + self.page_size]
            page = self._fetch_page(search_query="", id_list=",".join(chunk), start=0)
            papers, failures = self._read_entries(page.entries, first_position=offset)
            missing = _missing_ids(chunk, papers)
            note = f"arXiv has no paper for id {', '.join(missing)}" if missing else None
            if missing:
                log.info("ids not found source=%s ids=%s", self.name, ",".join(missing))
            yield from _split(
                papers, failures, self.batch_size, checkpoint=None, total=len(self.ids), note=note
            )

    # -- search query ----------------------------------------------------------------------

    def _query_batches(self, start: int) -> Iterator[Batch]:
        assert self.query is not None
        limit = self.max_results
        if limit is not None and start >= limit:
            yield Batch(checkpoint={"start": start}, note=f"query already done at start={start}")
            return
        total: int | None = None
        while True:
            want = self.page_size if limit is None else min(self.page_size, limit - start)
            page = self._fetch_page(search_query=self.query, id_list="", start=start, want=want)
            total = page.total_results
            expected = total if limit is None else min(total, limit)
            papers, failures = self._read_entries(page.entries, first_position=start)
            next_start = start + len(page.entries)
            done = not page.entries or next_start >= expected
            note = _query_note(self.query, start, total, has_entries=bool(page.entries))
            yield from _split(
                papers,
                failures,
                self.batch_size,
                checkpoint={"start": next_start},
                total=expected,
                note=note,
            )
            if done:
                return
            start = next_start

    # -- one request -----------------------------------------------------------------------

    def _fetch_page(
        self, *, search_query: str, id_list: str, start: int, want: int | None = None
    ) -> _Page:
        # arXiv's documented parameters, all of them every time, in one fixed shape.
        params = {
            "search_query": search_query,
            "id_list": id_list,
            "sortBy": SORT_BY,
            "sortOrder": SORT_ORDER,
            "start": str(start),
            "max_results": str(want or self.page_size),
        }
        response = self.client.get(self.endpoint, params)
        asked = f"query {search_query!r}" if search_query else f"id_list {id_list[:60]}"
        where = f"{self.endpoint} ({asked}, start={start})"
        log.debug("fetched url=%s status=%s", response.url, response.status)
        return _read_page(response, where)

    def _read_entries(
        self, entries: list[Element], *, first_position: int
    ) -> tuple[list[tuple[int, Paper]], list[tuple[int, RecordFailure]]]:
        papers, failures = [], []
        for i, entry in enumerate(entries):
            position = first_position + i
            try:
                papers.append((position, parse_api_entry(entry, self.name)))
            except RECORD_ERRORS as exc:
                raw_id = child_text(entry, "atom:id") or "no id"
                log.warning("bad record source=%s position=%s reason=%s", self.name, position, exc)
                failures.append(
                    (position, RecordFailure(self.name, f"result {position} ({raw_id})", str(exc)))
                )
        return papers, failures


def _read_page(response: HttpResponse, where: str) -> _Page:
    if response.status > 400:
        raise SourceUnavailable(f"{where}: HTTP {response.status}")
    try:
        root = parse_xml_document(response.body, where)
    except SourceUnavailable:
        if response.status == 400:
            raise InvalidInput(f"arXiv API rejected the request (HTTP 400) at {where}") from None
        raise
    if root.tag != f"{{{ATOM}}}feed":
        raise SourceUnavailable(f"{where}: expected an Atom feed, got <{local_name(root)}>")
    entries = root.findall("atom:entry", NS)
    _raise_api_error(entries)
    if response.status == 400:
        raise InvalidInput(f"arXiv API rejected the request (HTTP 400) at {where}")
    total_text = child_text(root, "opensearch:totalResults")
    try:
        total = int(total_text) if total_text is not None else len(entries)
    except ValueError:
        raise SourceUnavailable(f"{where}: unreadable totalResults {total_text!r}") from None
    return _Page(entries, total)


def _raise_api_error(entries: list[Element]) -> None:
    """arXiv's error feed: one entry with an id under /api/errors and the reason as summary."""
    for entry in entries:
        entry_id = child_text(entry, "atom:id") or ""
        if "/api/errors" in entry_id:
            reason = clean_text(child_text(entry, "atom:summary")) or entry_id.rsplit("#", 1)[-1]
            raise InvalidInput(f"arXiv API: {reason}")


def parse_api_entry(entry: Element, source: str) -> Paper:
    """Turn one API Atom entry (2016 or current schema) into a Paper; BadRecord if unusable."""
    raw_id = child_text(entry, "atom:id")
    if not raw_id:
        raise BadRecord("entry has no id")
    arxiv_id, version = parse_arxiv_id(raw_id)
    title = clean_text(child_text(entry, "atom:title"))
    if not title:
        raise BadRecord(f"entry {raw_id} has no title")
    published_at = parse_datetime(child_text(entry, "atom:published"))
    updated_at = parse_datetime(child_text(entry, "atom:updated"))
    primary = entry.find("arxiv:primary_category", NS)
    primary_category = None
    if primary is not None:
        primary_category = (primary.get("term") or "").strip() or None
    abs_url, pdf_url = entry_links(entry)
    return Paper(
        id=arxiv_id,
        title=title,
        abstract=clean_abstract(child_text(entry, "atom:summary")),
        authors=[clean_text(name) for name in entry_author_names(entry)],
        categories=parse_categories(entry_category_terms(entry)),
        primary_category=primary_category,
        version=version,
        versions=_known_versions(version, published_at, updated_at),
        published_at=published_at,
        updated_at=updated_at,
        comment=clean_text(child_text(entry, "arxiv:comment")) or None,
        journal_ref=clean_text(child_text(entry, "arxiv:journal_ref")) or None,
        doi=clean_text(child_text(entry, "arxiv:doi")) or None,
        abs_url=abs_url or abs_url_for(arxiv_id),
        pdf_url=pdf_url or pdf_url_for(arxiv_id),
        source=source,
    )


def _known_versions(
    version: int | None, published_at: datetime | None, updated_at: datetime | None
) -> list[Version]:
    # The API's `published` is when v1 was submitted and `updated` when the version in the id
    # was; versions in between are not in the feed.
    if version is None:
        return []
    if version == 1:
        return [Version(1, published_at)]
    return [Version(1, published_at), Version(version, updated_at)]


def _start_from(checkpoint: dict | None) -> int:
    raw = (checkpoint or {}).get("start", 0)
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise InvalidInput(f"arXiv API: unusable checkpoint {checkpoint!r}; expected start >= 0")
    return raw


def _missing_ids(requested: list[str], papers: list[tuple[int, Paper]]) -> list[str]:
    found = {paper.id for _, paper in papers}
    missing = []
    for raw in requested:
        try:
            base, _ = parse_arxiv_id(raw)
        except BadRecord:
            base = raw
        if base not in found:
            missing.append(raw)
    return missing


def _query_note(query: str, start: int, total: int, *, has_entries: bool) -> str | None:
    if has_entries:
        return None
    if total == 0:
        return f"no papers match query {query!r}"
    if start < total:
        # arXiv sometimes answers a page with nothing although more results exist; a rerun
        # resumes here from the checkpoint.
        return f"arXiv returned an empty page at start={start} of {total} results; stopped"
    return None


def _split(
    papers: list[tuple[int, Paper]],
    failures: list[tuple[int, RecordFailure]],
    batch_size: int,
    *,
    checkpoint: dict | None,
    total: int | None,
    note: str | None,
) -> Iterator[Batch]:
    """One page's results as batches of at most batch_size papers, each with its checkpoint.

    A query checkpoint is the position after the last record a batch holds, so a run stopped
    between two batches of one page resumes inside that page rather than re-reading it.
    """
    chunks = [papers[i : i + batch_size] for i in range(0, len(papers), batch_size)] or [[]]
    pending = failures
    for n, chunk in enumerate(chunks):
        is_last = n == len(chunks) - 1
        edge = float("inf") if is_last else chunk[-1][0]
        mine = [f for pos, f in pending if pos <= edge]
        pending = [(pos, f) for pos, f in pending if pos > edge]
        yield Batch(
            papers=[p for _, p in chunk],
            failures=mine,
            checkpoint=checkpoint if is_last or checkpoint is None else {"start": edge + 1},
            progress_total=total,
            note=note if is_last else None,
        )
