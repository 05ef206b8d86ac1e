"""Read the XML feeds arXiv serves: safe parsing, namespaces, and Atom entry fields.

Used by the arXiv API source (Atom search results) and the arXiv listing source (RSS 2.0, Atom
and RSS 1.0 daily listings). It turns bytes into an element tree and pulls plain values out of
entries; it never fetches anything and never decides what a field means for a Paper.
"""

from __future__ import annotations

import logging
import re
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml  # noqa: N813 - says what it is for
from defusedxml import DefusedXmlException

from paperfeed.errors import SourceUnavailable

log = logging.getLogger(__name__)

ATOM = "http://www.w3.org/2005/Atom"
ARXIV = "http://arxiv.org/schemas/atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
DC = "http://purl.org/dc/elements/1.1/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RSS1 = "http://purl.org/rss/1.0/"
NS = {"atom": ATOM, "arxiv": ARXIV, "opensearch": OPENSEARCH, "dc": DC, "rdf": RDF, "rss1": RSS1}

_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>")


def parse_xml_document(body: bytes, url: str) -> Element:
    """Parse a whole response into its root element, or raise SourceUnavailable naming `url`.

    Entity declarations (billion laughs, external entities) are refused outright. Bytes that are
    not valid UTF-8 are replaced rather than losing the whole page for one bad character.
    """
    try:
        return safe_xml.fromstring(body)
    except DefusedXmlException as exc:
        raise SourceUnavailable(
            f"{url}: refused XML with entity or DTD declarations ({type(exc).__name__})"
        ) from None
    except ParseError as exc:
        if not _is_bad_utf8(body):
            raise SourceUnavailable(f"{url}: not well-formed XML ({exc})") from None
    log.warning("invalid UTF-8 bytes replaced url=%s", url)
    # The declaration would claim an encoding the decoded text no longer has.
    text = _XML_DECLARATION.sub(b"", body).decode("utf-8", errors="replace")
    try:
        return safe_xml.fromstring(text)
    except DefusedXmlException as exc:
        raise SourceUnavailable(
            f"{url}: refused XML with entity or DTD declarations ({type(exc).__name__})"
        ) from None
    except ParseError as exc:
        raise SourceUnavailable(f"{url}: not well-formed XML ({exc})") from None


def _is_bad_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def child_text(element: Element, path: str) -> str | None:
    """The stripped text of the first match of `path` (NS prefixes), or None if absent/empty."""
    found = element.find(path, NS)
    if found is None:
        return None
    text = "".join(found.itertext()).strip()
    return text or None


def entry_author_names(entry: Element) -> list[str]:
    """Raw author names of an Atom entry, from <author><name> (affiliations are ignored)."""
    names = []
    for author in entry.findall("atom:author", NS):
        name = child_text(author, "atom:name")
        if name:
            names.append(name)
    return names


def entry_category_terms(entry: Element) -> list[str]:
    """The `term` of each Atom <category>, in document order."""
    return [c.get("term", "").strip() for c in entry.findall("atom:category", NS) if c.get("term")]


def entry_links(entry: Element) -> tuple[str | None, str | None]:
    """(abstract page URL, PDF URL) from an Atom entry's <link rel="alternate"> and title="pdf"."""
    abs_url = pdf_url = None
    for link in entry.findall("atom:link", NS):
        href = (link.get("href") or "").strip()
        if not href:
            continue
        if link.get("title") == "pdf" and pdf_url is None:
            pdf_url = href
        elif link.get("rel", "alternate") == "alternate" and abs_url is None:
            abs_url = href
    return abs_url, pdf_url


def local_name(element: Element) -> str:
    """The tag without its namespace, for messages and format detection."""
    return element.tag.rsplit("}", 1)[-1]
