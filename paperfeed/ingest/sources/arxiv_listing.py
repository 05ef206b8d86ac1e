"""The arXiv daily-listing source: today's announcements of some categories, from arXiv's feeds.

`ingest.run` drives it like any Source (the CLI passes categories and `--endpoint`). For each
category it fetches `{endpoint}/rss/{category}` (or `/atom/{category}`) once and reads whichever
of arXiv's three feed formats comes back, judged by the root element:

- RSS 2.0 with the `arxiv:` namespace, served by rss.arxiv.org since January 2024;
- the Atom twin of that feed;
- the legacy RSS 1.0/RDF feed arXiv served before 2024.

Each item carries an announce type (new, cross, replace, replace-cross); all of them become
papers (a replacement is a newer version), and the counts per type go into the batch note. A
paper cross-listed in several requested categories is yielded once per run (the first category
wins). A listing is a snapshot of today, so there is no checkpoint. It never writes to the
database and never fetches more than one feed per category.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from xml.etree.ElementTree import Element

from paperfeed.errors import RECORD_ERRORS, BadRecord, InvalidInput, SourceUnavailable
from paperfeed.ingest.http import PoliteClient
from paperfeed.ingest.normalize import (
    abs_url_for,
    clean_abstract,
    clean_text,
    parse_arxiv_id,
    parse_categories,
    parse_datetime,
    pdf_url_for,
    split_authors,
)
from paperfeed.ingest.sources.atom import (
    ATOM,
    NS,
    RDF,
    child_text,
    entry_author_names,
    entry_category_terms,
    entry_links,
    local_name,
    parse_xml_document,
)
from paperfeed.models import Batch, Paper, RecordFailure, Version

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://rss.arxiv.org"
FEED_FORMATS = ("rss", "atom")
# "cs", "cs.LG", "cond-mat.str-el", "math-ph", or several joined by "+" as arXiv allows.
_ONE_CATEGORY = r"[A-Za-z][A-Za-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?"
_CATEGORY = re.compile(rf"{_ONE_CATEGORY}(?:\+{_ONE_CATEGORY})*")
# "arXiv:2401.00001v1 Announce Type: new \nAbstract: ..." opens every current description.
_ANNOUNCE_PREFIX = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce\s+Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?",
    re.IGNORECASE,
)
# Legacy titles: "Title. (arXiv:1805.06430v2 [nucl-th] UPDATED)".
_LEGACY_TITLE = re.compile(
    r"^(?P<title>.*?)\.?\s*\(arXiv:(?P<id>\S+)\s*\[(?P<cat>[^\]]+)\]\s*(?P<flag>[A-Z ]*?)\s*\)\s*$",
    re.DOTALL,
)
_LEGACY_FLAGS = {"": "new", "CROSS LISTED": "cross", "UPDATED": "replace"}


@dataclass(slots=True)
class _Listed:
    """One readable listing item: the paper and how arXiv announced it."""

    paper: Paper
    announce_type: str


@dataclass(slots=True, frozen=True)
class _Feed:
    """What an item reader needs to know about the feed around it."""

    category: str
    announced_at: datetime | None
    source: str


class ArxivListingSource:
    """Today's arXiv announcements for `categories`, one feed request per category."""

    name = "arxiv-listing"
    incremental = False

    def __init__(
        self,
        client: PoliteClient,
        categories: list[str],
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        feed_format: str = "rss",
        batch_size: int = 500,
    ) -> None:
        categories = [c.strip() for c in categories if c and c.strip()]
        if not categories:
            raise InvalidInput("arXiv listing: give at least one category, e.g. cs.LG")
        for category in categories:
            if not _CATEGORY.fullmatch(category):
                raise InvalidInput(f"arXiv listing: {category!r} is not an arXiv category")
        if feed_format not in FEED_FORMATS:
            raise InvalidInput(
                f"arXiv listing: feed_format must be rss or atom, not {feed_format!r}"
            )
        if batch_size < 1:
            raise InvalidInput(f"arXiv listing: batch_size must be at least 1, not {batch_size}")
        self.client = client
        self.categories = list(dict.fromkeys(categories))
        self.endpoint = endpoint.rstrip("/")
        self.feed_format = feed_format
        self.batch_size = batch_size

    def checkpoint_key(self) -> str | None:
        return None  # a listing is a snapshot of today; rerunning it is cheap and idempotent

    def batches(self, checkpoint: dict | None) -> Iterator[Batch]:
        seen: set[tuple[str, int | None]] = set()  # (id, version) yielded earlier in this run
        for category in self.categories:
            yield from self._category_batches(category, seen)

    def _category_batches(
        self, category: str, seen: set[tuple[str, int | None]]
    ) -> Iterator[Batch]:
        url = f"{self.endpoint}/{self.feed_format}/{category}"
        listed, failures = self._read_listing(url, category)
        if not listed and not failures:
            log.info("empty listing source=%s category=%s", self.name, category)
            yield Batch(note=f"no announcements today for {category}")
            return
        fresh = _drop_repeats(listed, seen)
        counts = Counter(item.announce_type for item in listed)
        log.info(
            "listing read source=%s category=%s papers=%d repeated=%d failed=%d types=%s",
            self.name,
            category,
            len(fresh),
            len(listed) - len(fresh),
            len(failures),
            ",".join(f"{k}:{v}" for k, v in sorted(counts.items())),
        )
        note = _listing_note(category, counts, len(failures), len(listed) - len(fresh))
        size = self.batch_size
        chunks = [fresh[i : i + size] for i in range(0, len(fresh), size)] or [[]]
        for n, chunk in enumerate(chunks):
            is_last = n == len(chunks) - 1
            yield Batch(
                papers=chunk,
                failures=failures if is_last else [],
                note=note if is_last else None,
            )

    def _read_listing(self, url: str, category: str) -> tuple[list[_Listed], list[RecordFailure]]:
        response = self.client.get(url)
        if response.status in (400, 404):
            raise InvalidInput(
                f"arXiv listing: no feed for {category!r} (HTTP {response.status} at {url})"
            )
        if response.status >= 400:
            raise SourceUnavailable(f"{url}: HTTP {response.status}")
        root = parse_xml_document(response.body, url)
        items, reader, announced_at = _feed_parts(root, url)
        feed = _Feed(category=category, announced_at=announced_at, source=self.name)
        listed, failures = [], []
        for n, item in enumerate(items, start=1):
            try:
                listed.append(reader(item, feed))
            except RECORD_ERRORS as exc:
                position = f"{category} item {n}"
                log.warning("bad record source=%s position=%r reason=%s", self.name, position, exc)
                failures.append(RecordFailure(self.name, position, str(exc)))
        return listed, failures


Reader = Callable[[Element, _Feed], _Listed]


def _feed_parts(root: Element, url: str) -> tuple[list[Element], Reader, datetime | None]:
    """Detect the format from the root element: (items, item reader, the feed's own date)."""
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise SourceUnavailable(f"{url}: RSS feed without a <channel>")
        return channel.findall("item"), _read_rss2_item, _feed_date(channel, "pubDate", url)
    if root.tag == f"{{{ATOM}}}feed":
        return (
            root.findall("atom:entry", NS),
            _read_atom_entry,
            _feed_date(root, "atom:updated", url),
        )
    if root.tag == f"{{{RDF}}}RDF":
        date = _feed_date(root, "rss1:channel/dc:date", url)
        return root.findall("rss1:item", NS), _read_rdf_item, date
    raise SourceUnavailable(f"{url}: not an arXiv listing feed (root element <{local_name(root)}>)")


def _feed_date(element: Element, path: str, url: str) -> datetime | None:
    try:
        return parse_datetime(child_text(element, path))
    except BadRecord:
        log.warning("unreadable feed date url=%s", url)
        return None


def _read_rss2_item(item: Element, feed: _Feed) -> _Listed:
    """An item of today's RSS 2.0 listing (guid oai:arXiv.org:<id>v<n>, dc:creator, ...)."""
    prefix_id, prefix_type, abstract = _split_description(child_text(item, "description"))
    announce_type = child_text(item, "arxiv:announce_type") or prefix_type
    raw_id = _first_arxiv_id(child_text(item, "guid"), prefix_id, child_text(item, "link"))
    categories = [(e.text or "").strip() for e in item.findall("category")]
    paper = _listing_paper(
        feed,
        raw_id=raw_id,
        title=child_text(item, "title"),
        abstract=abstract,
        authors=split_authors(child_text(item, "dc:creator") or ""),
        categories=categories,
        announce_type=announce_type,
        announced_at=parse_datetime(child_text(item, "pubDate")) or feed.announced_at,
        abs_url=child_text(item, "link"),
        doi=child_text(item, "arxiv:DOI"),
        journal_ref=child_text(item, "arxiv:journal_reference"),
    )
    return _Listed(paper, _announce_type(announce_type))


def _read_atom_entry(entry: Element, feed: _Feed) -> _Listed:
    """An entry of today's Atom listing (id oai:arXiv.org:<id>v<n>, summary with the prefix)."""
    prefix_id, prefix_type, abstract = _split_description(child_text(entry, "atom:summary"))
    announce_type = child_text(entry, "arxiv:announce_type") or prefix_type
    raw_id = _first_arxiv_id(child_text(entry, "atom:id"), prefix_id)
    abs_url, _ = entry_links(entry)
    # arXiv documents dc:creator here as in the RSS feed; accept Atom <author> too.
    creator = child_text(entry, "dc:creator")
    authors = split_authors(creator) if creator else entry_author_names(entry)
    paper = _listing_paper(
        feed,
        raw_id=raw_id,
        title=child_text(entry, "atom:title"),
        abstract=abstract,
        authors=authors,
        categories=entry_category_terms(entry),
        announce_type=announce_type,
        announced_at=parse_datetime(child_text(entry, "atom:published")) or feed.announced_at,
        abs_url=abs_url,
        doi=child_text(entry, "arxiv:DOI"),
        journal_ref=child_text(entry, "arxiv:journal_reference"),
    )
    return _Listed(paper, _announce_type(announce_type))


def _read_rdf_item(item: Element, feed: _Feed) -> _Listed:
    """An item of the legacy RSS 1.0 feed: the id, version and category sit in the title."""
    raw_title = child_text(item, "rss1:title") or ""
    match = _LEGACY_TITLE.match(raw_title)
    title, title_id, bracket, flag = raw_title, None, None, ""
    if match:
        title, title_id = match["title"], match["id"]
        bracket, flag = match["cat"].strip(), match["flag"].strip()
    announce_type = _LEGACY_FLAGS.get(flag, flag.lower() or "new")
    if announce_type == "replace" and bracket and not _within(bracket, feed.category):
        announce_type = "replace-cross"
    link = child_text(item, "rss1:link")
    raw_id = _first_arxiv_id(title_id, item.get(f"{{{RDF}}}about"), link)
    paper = _listing_paper(
        feed,
        raw_id=raw_id,
        title=title,
        abstract=child_text(item, "rss1:description") or "",
        # dc:creator holds escaped HTML links: "<a href=...>Name</a> (Collaboration), ...".
        authors=split_authors(child_text(item, "dc:creator") or ""),
        categories=[bracket] if bracket else [],
        announce_type=announce_type,
        announced_at=feed.announced_at,
        abs_url=link,
        doi=None,
        journal_ref=None,
    )
    if bracket and announce_type != "cross":
        paper.primary_category = bracket  # legacy titles name the primary category
    return _Listed(paper, announce_type)


def _listing_paper(
    feed: _Feed,
    *,
    raw_id: str,
    title: str | None,
    abstract: str,
    authors: list[str],
    categories: list[str],
    announce_type: str | None,
    announced_at: datetime | None,
    abs_url: str | None,
    doi: str | None,
    journal_ref: str | None,
) -> Paper:
    arxiv_id, version = parse_arxiv_id(raw_id)
    clean_title = clean_text(title)
    if not clean_title:
        raise BadRecord(f"item {raw_id} has no title")
    kind = _announce_type(announce_type)
    categories = parse_categories(categories)
    # The feed's date is when this version was announced: the paper's first publication only
    # for a v1, otherwise the date it was updated. Submission times are not in a listing.
    is_first = version == 1 or (version is None and kind == "new")
    primary = feed.category if kind in ("new", "replace") and feed.category in categories else None
    return Paper(
        id=arxiv_id,
        title=clean_title,
        abstract=clean_abstract(abstract),
        authors=[a for a in (clean_text(name) for name in authors) if a],
        categories=categories,
        primary_category=primary,
        version=version,
        versions=[Version(version)] if version else [],
        published_at=announced_at if is_first else None,
        updated_at=announced_at,
        doi=clean_text(doi) or None,
        journal_ref=clean_text(journal_ref) or None,
        abs_url=abs_url or abs_url_for(arxiv_id),
        pdf_url=pdf_url_for(arxiv_id),
        source=feed.source,
    )


def _split_description(text: str | None) -> tuple[str | None, str | None, str]:
    """(id, announce type, abstract) from "arXiv:2401.00001v1 Announce Type: new Abstract: …"."""
    if not text:
        return None, None, ""
    match = _ANNOUNCE_PREFIX.match(text)
    if not match:
        return None, None, re.sub(r"^\s*Abstract:\s*", "", text)
    return match["id"], match["type"], text[match.end() :]


def _first_arxiv_id(*candidates: str | None) -> str:
    """The first candidate that reads as an arXiv id; BadRecord when none does."""
    for raw in candidates:
        if raw:
            try:
                parse_arxiv_id(raw)
            except BadRecord:
                continue
            return raw.strip()
    raise BadRecord("item has no arXiv id (no readable guid, id, link or description prefix)")


def _announce_type(raw: str | None) -> str:
    return (raw or "new").strip().lower() or "new"


def _within(category: str, feed_category: str) -> bool:
    """Whether `category` belongs to the requested feed (itself, or a subject of its archive)."""
    wanted = feed_category.split("+")
    return any(category == w or category.startswith(w + ".") for w in wanted)


def _drop_repeats(listed: list[_Listed], seen: set[tuple[str, int | None]]) -> list[Paper]:
    """The papers not yielded yet in this run: a cross-list shows up under every category."""
    fresh = []
    for item in listed:
        key = (item.paper.id, item.paper.version)
        if key not in seen:
            seen.add(key)
            fresh.append(item.paper)
    return fresh


def _listing_note(category: str, counts: Counter[str], failed: int, repeated: int) -> str:
    order = ["new", "cross", "replace", "replace-cross"]
    kinds = sorted(counts, key=lambda k: (order.index(k) if k in order else len(order), k))
    parts = ", ".join(f"{kind}={counts[kind]}" for kind in kinds)
    total = sum(counts.values())
    note = f"{category}: {total} announced ({parts})" if total else f"{category}: 0 read"
    if failed:
        note += f", {failed} unreadable"
    if repeated:
        note += f"; {repeated} already listed under an earlier category"
    return note
