"""Parse OAI-PMH responses: the envelope (records, resumption token, errors) and arXiv records.

Used by `arxiv_oai.py`, which does the fetching; nothing here does I/O. The envelope parser
accepts any verb's list (ListRecords, ListIdentifiers, GetRecord) and any metadata prefix, so
page and token handling can be checked against any OAI-PMH repository; `parse_record` reads
arXiv's two record formats, `arXiv` and `arXivRaw`. XML is always read with defusedxml: an
upstream body with entity declarations (an entity bomb) or external references is refused,
never expanded.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from paperfeed.errors import BadRecord, SourceUnavailable
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
from paperfeed.models import Paper, Version

log = logging.getLogger(__name__)

OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"
ARXIV_RAW = "{http://arxiv.org/OAI/arXivRaw/}"
_LIST_ELEMENTS = ("ListRecords", "ListIdentifiers", "GetRecord")
_XML_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")


@dataclass(slots=True)
class OaiPage:
    """One OAI-PMH answer: its items (<record>s, or <header>s for ListIdentifiers) and where
    the list goes on. `token` is None on the last page (OAI marks it with an empty token)."""

    items: list[Element] = field(default_factory=list)
    token: str | None = None
    complete_list_size: int | None = None
    error_code: str | None = None
    error_message: str = ""


def parse_oai_page(body: bytes, url: str) -> OaiPage:
    """Read an OAI-PMH response body; raise SourceUnavailable if it is not one."""
    root = _parse_xml(body, url)
    if root.tag != f"{OAI}OAI-PMH":
        raise SourceUnavailable(f"{url}: not an OAI-PMH response (root element <{_local(root)}>)")
    error = root.find(f"{OAI}error")
    if error is not None:
        return OaiPage(error_code=error.get("code", "unknown"), error_message=_text(error))
    for name in _LIST_ELEMENTS:
        listing = root.find(f"{OAI}{name}")
        if listing is not None:
            return _read_listing(listing, url)
    raise SourceUnavailable(f"{url}: OAI-PMH response holds no record list and no error")


def _parse_xml(body: bytes, url: str) -> Element:
    try:
        return fromstring(_repair_utf8(body, url))
    except DefusedXmlException as exc:
        raise SourceUnavailable(
            f"{url}: refused XML that declares entities or external references"
            f" ({type(exc).__name__}); OAI-PMH never needs them and they can be an"
            " entity-expansion attack"
        ) from exc
    except ParseError as exc:
        raise SourceUnavailable(f"{url}: not well-formed XML ({exc})") from exc


def _repair_utf8(body: bytes, url: str) -> bytes:
    # One mis-encoded byte in one title would otherwise make expat reject a page of ~1000
    # records; replacing it with U+FFFD keeps the page. Other declared encodings are left to
    # expat, which decodes them itself.
    declared = _XML_DECLARED_ENCODING.match(body)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        return body
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        log.warning("invalid UTF-8 replaced url=%s first_bad_offset=%d", url, exc.start)
        return body.decode("utf-8", errors="replace").encode("utf-8")
    return body


def _read_listing(listing: Element, url: str) -> OaiPage:
    items = [child for child in listing if child.tag in (f"{OAI}record", f"{OAI}header")]
    page = OaiPage(items=items)
    token = listing.find(f"{OAI}resumptionToken")
    if token is not None:
        page.token = _text(token) or None
        size = token.get("completeListSize")
        if size and size.strip().isdigit():
            page.complete_list_size = int(size)
        elif size:
            log.warning("ignored completeListSize url=%s value=%r", url, size[:40])
    return page


def header_of(item: Element) -> Element:
    """The <header> of a <record>, or the item itself when it is a ListIdentifiers header."""
    if item.tag == f"{OAI}header":
        return item
    header = item.find(f"{OAI}header")
    return header if header is not None else Element(f"{OAI}header")


def is_deleted(item: Element) -> bool:
    return header_of(item).get("status") == "deleted"


def identifier_of(item: Element) -> str:
    return _text(header_of(item).find(f"{OAI}identifier"))


def datestamp_of(item: Element) -> str | None:
    """The header datestamp as YYYY-MM-DD (arXiv's granularity), or None if absent."""
    stamp = _text(header_of(item).find(f"{OAI}datestamp"))
    return stamp[:10] if re.match(r"\d{4}-\d{2}-\d{2}", stamp) else None


def parse_record(record: Element, source: str) -> Paper:
    """Turn one <record> in the `arXiv` or `arXivRaw` format into a Paper; raise BadRecord."""
    metadata = record.find(f"{OAI}metadata")
    if metadata is None or len(metadata) == 0:
        raise BadRecord("record has no <metadata>")
    body = metadata[0]
    if body.tag == f"{ARXIV}arXiv":
        return _parse_arxiv(body, source)
    if body.tag == f"{ARXIV_RAW}arXivRaw":
        return _parse_arxiv_raw(body, source)
    raise BadRecord(f"unsupported metadata format <{_local(body)}>")


def _parse_arxiv(meta: Element, source: str) -> Paper:
    paper = _common_fields(meta, ARXIV, source)
    paper.authors = [
        name
        for name in (_author_name(a) for a in meta.iterfind(f"{ARXIV}authors/{ARXIV}author"))
        if name
    ]
    # The `arXiv` format says nothing about versions beyond v1's date and the last update.
    paper.published_at = parse_datetime(_text(meta.find(f"{ARXIV}created")))
    paper.updated_at = parse_datetime(_text(meta.find(f"{ARXIV}updated")))
    return paper


def _author_name(author: Element) -> str:
    parts = (_text(author.find(f"{ARXIV}{tag}")) for tag in ("forenames", "keyname", "suffix"))
    return clean_text(" ".join(p for p in parts if p))


def _parse_arxiv_raw(meta: Element, source: str) -> Paper:
    paper = _common_fields(meta, ARXIV_RAW, source)
    paper.authors = split_authors(_text(meta.find(f"{ARXIV_RAW}authors")))
    paper.versions = sorted(
        (_raw_version(v) for v in meta.iterfind(f"{ARXIV_RAW}version")),
        key=lambda v: v.number,
    )
    if paper.versions:
        paper.version = paper.versions[-1].number
        paper.published_at = paper.versions[0].submitted_at
        # Same meaning as <updated> in the `arXiv` format: only set once there is a later version.
        if len(paper.versions) > 1:
            paper.updated_at = paper.versions[-1].submitted_at
    return paper


def _raw_version(element: Element) -> Version:
    label = element.get("version", "")
    match = re.fullmatch(r"v(\d+)", label.strip())
    if not match:
        raise BadRecord(f"unreadable version label {label[:20]!r}")
    return Version(int(match.group(1)), parse_datetime(_text(element.find(f"{ARXIV_RAW}date"))))


def _common_fields(meta: Element, ns: str, source: str) -> Paper:
    raw_id = _text(meta.find(f"{ns}id"))
    if not raw_id:
        raise BadRecord("record has no <id>")
    arxiv_id, version = parse_arxiv_id(raw_id)
    title = clean_text(_text(meta.find(f"{ns}title")))
    if not title:
        raise BadRecord(f"record {arxiv_id} has no <title>")
    categories = parse_categories(_text(meta.find(f"{ns}categories")))
    return Paper(
        id=arxiv_id,
        title=title,
        abstract=clean_abstract(_text(meta.find(f"{ns}abstract"))),
        categories=categories,
        primary_category=categories[0] if categories else None,
        version=version,
        comment=clean_text(_text(meta.find(f"{ns}comments"))) or None,
        journal_ref=clean_text(_text(meta.find(f"{ns}journal-ref"))) or None,
        doi=clean_text(_text(meta.find(f"{ns}doi"))) or None,
        abs_url=abs_url_for(arxiv_id),
        pdf_url=pdf_url_for(arxiv_id),
        source=source,
    )


def _text(element: Element | None) -> str:
    # itertext, not .text: a title may hold stray child markup that should still be read.
    return "".join(element.itertext()).strip() if element is not None else ""


def _local(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1]
