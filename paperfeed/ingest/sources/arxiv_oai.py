"""Harvest arXiv metadata over OAI-PMH (verb=ListRecords, prefix `arXiv` or `arXivRaw`).

`ingest.run` drives `ArxivOaiSource.batches(checkpoint)` and stores what it yields; this
module only fetches pages through `PoliteClient` (which paces and retries) and parses them with
`oai_xml`. It never touches the database. Each batch carries a checkpoint that resumes right
after it: the resumption token of the page to fetch next (plus how many of that page's records
were already yielded), or, once a harvest is complete, `harvested_until` so the next daily run
asks only for what changed since.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from xml.etree.ElementTree import Element

from paperfeed.errors import RECORD_ERRORS, InvalidInput, SourceUnavailable
from paperfeed.ingest.http import PoliteClient
from paperfeed.ingest.sources.oai_xml import (
    OaiPage,
    datestamp_of,
    identifier_of,
    is_deleted,
    parse_oai_page,
    parse_record,
)
from paperfeed.models import Batch, RecordFailure

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://oaipmh.arxiv.org/oai"
PREFIXES = ("arXiv", "arXivRaw")
# OAI errors that mean the request itself is wrong: retrying cannot help, the user must change it.
_REQUEST_ERRORS = ("badArgument", "badVerb", "cannotDisseminateFormat", "noSetHierarchy")


def iter_pages(
    client: PoliteClient, endpoint: str, params: dict[str, str], token: str | None = None
) -> Iterator[tuple[str | None, str, OaiPage]]:
    """Yield (token that fetched it, url, page) for each page of an OAI-PMH list.

    Starts with `params` (or with `token` when resuming) and follows resumption tokens until
    the list ends or the server answers an OAI error (that page is yielded and the list ends).
    A request with a token carries only the verb and the token, as OAI-PMH requires.
    """
    while True:
        query = {"verb": params["verb"], "resumptionToken": token} if token else params
        response = client.get(endpoint, query)
        page = _read_response(response.status, response.body, response.url)
        yield token, response.url, page
        if page.error_code or page.token is None:
            return
        if page.token == token:
            raise SourceUnavailable(f"{response.url}: server repeated resumption token {token!r}")
        token = page.token


def _read_response(status: int, body: bytes, url: str) -> OaiPage:
    if status == 200:
        return parse_oai_page(body, url)
    # Some repositories send OAI errors with a 4xx status; their body still says what is wrong.
    try:
        page = parse_oai_page(body, url)
    except SourceUnavailable:
        page = None
    if page is None or page.error_code is None:
        raise SourceUnavailable(f"{url}: HTTP {status}, not an OAI-PMH answer")
    return page


@dataclass(slots=True)
class _Harvest:
    """Where one harvest stands: its window, the page to fetch next and the newest datestamp."""

    from_: str | None
    until: str | None
    token: str | None = None
    skip: int = 0
    newest_datestamp: str | None = None
    #: The incremental cursor before this harvest, and today's date (UTC), both YYYY-MM-DD.
    previous_until: str | None = None
    today: str | None = None

    def resume_checkpoint(self) -> dict:
        return {
            "harvest": {
                "from": self.from_,
                "until": self.until,
                "token": self.token,
                "skip": self.skip,
                "newest_datestamp": self.newest_datestamp,
                "previous_until": self.previous_until,
            }
        }

    def finished_checkpoint(self) -> dict:
        """The incremental cursor after this harvest: only an open-ended harvest (no `until`)
        moves it, only forward, and never past today. A backfill of an old window leaves it
        alone, so the next daily run does not start from the backfill's end."""
        cursor = self.previous_until
        if self.until is None:
            reached = self.newest_datestamp or self.from_
            if reached and self.today:
                reached = min(reached, self.today)
            if reached and (cursor is None or reached > cursor):
                cursor = reached
        return {"harvested_until": cursor} if cursor else {}

    def see(self, item: Element) -> None:
        stamp = datestamp_of(item)
        if stamp and (self.newest_datestamp is None or stamp > self.newest_datestamp):
            self.newest_datestamp = stamp


class ArxivOaiSource:
    """arXiv's OAI-PMH feed as a Source; see the module docstring for checkpoint semantics."""

    name = "arxiv-oai"
    incremental = True  # a finished harvest's checkpoint is where the next day's one starts

    def __init__(
        self,
        client: PoliteClient,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        prefix: str = "arXiv",
        set_spec: str | None = None,
        from_date: date | None = None,
        until_date: date | None = None,
        batch_size: int = 500,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if prefix not in PREFIXES:
            raise InvalidInput(f"OAI metadata prefix must be one of {PREFIXES}, not {prefix!r}")
        if batch_size < 1:
            raise InvalidInput(f"batch_size must be at least 1, not {batch_size}")
        if from_date and until_date and from_date > until_date:
            raise InvalidInput(f"from_date {from_date} is after until_date {until_date}")
        if from_date and from_date > clock().date():
            raise InvalidInput(f"from_date {from_date} is in the future")
        self.client = client
        self.endpoint = endpoint
        self.prefix = prefix
        self.set_spec = set_spec
        self.from_date = from_date.isoformat() if from_date else None
        self.until_date = until_date.isoformat() if until_date else None
        self.batch_size = batch_size
        self.clock = clock

    def checkpoint_key(self) -> str:
        return f"arxiv-oai:{self.prefix}:{self.set_spec or 'all'}"

    def batches(self, checkpoint: dict | None) -> Iterator[Batch]:
        harvest = self._harvest_to_run(checkpoint or {})
        try:
            yield from self._harvest_pages(harvest)
        except _BadResumptionToken as exc:
            # Tokens expire (arXiv keeps them for hours, not days). Restart from the harvest's
            # own `from`, not from the newest datestamp seen: arXiv orders records by id, not
            # by datestamp, so older datestamps can still be waiting on later pages.
            log.warning(
                "bad resumption token, restarting harvest url=%s from=%s until=%s message=%r",
                exc.url,
                harvest.from_,
                harvest.until,
                exc.message,
            )
            restart = _Harvest(
                harvest.from_, harvest.until, newest_datestamp=harvest.newest_datestamp
            )
            try:
                yield from self._harvest_pages(restart)
            except _BadResumptionToken as again:
                raise SourceUnavailable(
                    f"{again.url}: server rejected a fresh resumption token ({again.message})"
                ) from None

    def _harvest_to_run(self, checkpoint: dict) -> _Harvest:
        unfinished = checkpoint.get("harvest")
        if unfinished and self._same_window(unfinished):
            log.info(
                "resuming harvest token=%r skip=%s", unfinished.get("token"), unfinished.get("skip")
            )
            return _Harvest(
                unfinished.get("from"),
                unfinished.get("until"),
                token=unfinished.get("token"),
                skip=int(unfinished.get("skip") or 0),
                newest_datestamp=unfinished.get("newest_datestamp"),
                previous_until=unfinished.get("previous_until"),
                today=self.clock().date().isoformat(),
            )
        from_ = self.from_date
        previous = checkpoint.get("harvested_until")
        if from_ is None and previous:
            from_ = previous
            log.info("incremental harvest from=%s", from_)
        return _Harvest(
            from_, self.until_date, previous_until=previous, today=self.clock().date().isoformat()
        )

    def _same_window(self, unfinished: dict) -> bool:
        # Explicit dates that differ from the interrupted harvest mean the user wants another
        # window; without dates, the interrupted harvest is simply continued.
        if self.from_date is None and self.until_date is None:
            return True
        return (unfinished.get("from"), unfinished.get("until")) == (
            self.from_date,
            self.until_date,
        )

    def _first_params(self, harvest: _Harvest) -> dict[str, str]:
        params = {"verb": "ListRecords", "metadataPrefix": self.prefix}
        if harvest.from_:
            params["from"] = harvest.from_
        if harvest.until:
            params["until"] = harvest.until
        if self.set_spec:
            params["set"] = self.set_spec
        return params

    def _harvest_pages(self, harvest: _Harvest) -> Iterator[Batch]:
        pages = iter_pages(self.client, self.endpoint, self._first_params(harvest), harvest.token)
        for number, (token, url, page) in enumerate(pages, start=1):
            if page.error_code == "noRecordsMatch":
                note = f"no records match {self._describe(harvest)} ({page.error_message})"
                log.info("no records match url=%s", url)
                yield Batch(checkpoint=harvest.finished_checkpoint(), note=note)
                return
            if page.error_code:
                raise self._oai_error(page, url, token)
            yield from self._page_batches(harvest, page, token, f"page {number}")

    def _page_batches(
        self, harvest: _Harvest, page: OaiPage, token: str | None, where: str
    ) -> Iterator[Batch]:
        start = harvest.skip
        for offset in range(start, max(len(page.items), start + 1), self.batch_size):
            chunk = page.items[offset : offset + self.batch_size]
            batch = self._read_chunk(chunk, offset, where)
            for item in chunk:
                harvest.see(item)
            batch.progress_total = page.complete_list_size
            if offset + self.batch_size < len(page.items):
                harvest.token, harvest.skip = token, offset + self.batch_size
                batch.checkpoint = harvest.resume_checkpoint()
            elif page.token:
                harvest.token, harvest.skip = page.token, 0
                batch.checkpoint = harvest.resume_checkpoint()
            else:
                batch.checkpoint = harvest.finished_checkpoint()
            yield batch

    def _read_chunk(self, chunk: list[Element], offset: int, where: str) -> Batch:
        batch = Batch()
        deleted = 0
        for index, item in enumerate(chunk, start=offset + 1):
            if is_deleted(item):
                deleted += 1
                continue
            identifier = identifier_of(item) or "no identifier"
            try:
                batch.papers.append(parse_record(item, self.name))
            except RECORD_ERRORS as exc:
                position = f"{where} record {index} ({identifier})"
                log.warning(
                    "bad record source=%s position=%r reason=%r", self.name, position, str(exc)
                )
                batch.failures.append(RecordFailure(self.name, position, str(exc)))
        if deleted:
            log.info(
                "skipped deleted records source=%s where=%r count=%d", self.name, where, deleted
            )
            batch.note = f"skipped {deleted} deleted record{'s' if deleted > 1 else ''}"
        return batch

    def _oai_error(self, page: OaiPage, url: str, token: str | None) -> Exception:
        message = f"{url}: OAI-PMH error {page.error_code}: {page.error_message}"
        if page.error_code == "badResumptionToken" and token:
            return _BadResumptionToken(url, page.error_message)
        if page.error_code in _REQUEST_ERRORS:
            return InvalidInput(message)
        return SourceUnavailable(message)

    def _describe(self, harvest: _Harvest) -> str:
        parts = [f"prefix={self.prefix}", f"set={self.set_spec or 'all'}"]
        parts += [f"from={harvest.from_}"] if harvest.from_ else []
        parts += [f"until={harvest.until}"] if harvest.until else []
        return " ".join(parts)


class _BadResumptionToken(Exception):
    def __init__(self, url: str, message: str) -> None:
        super().__init__(message)
        self.url = url
        self.message = message
