"""Normalise what sources read: arXiv ids and versions, dates, whitespace, stray HTML, authors.

Pure functions used by every source; nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime

from paperfeed.errors import BadRecord

# New-style ids (0704.0001 onwards, 5-digit numbers from 1501) and old-style (hep-th/9901001).
# Versions stay below 10,000 (real papers have a few dozen at most).
_NEW_ID = re.compile(r"(?P<id>\d{4}\.\d{4,5})(?:v(?P<v>\d{1,4}))?")
_OLD_ID = re.compile(r"(?P<id>[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<v>\d{1,4}))?")
_ID_PREFIX = re.compile(
    r"^(?:arxiv:|https?://(?:export\.|www\.)?arxiv\.org/(?:abs|pdf)/|oai:arxiv\.org:)",
    re.IGNORECASE,
)
# Only real HTML tag names count, so math such as "$a<b$ and $c>d$" survives untouched.
_HTML_TAG_NAMES = (
    "a|abbr|b|big|blockquote|br|center|code|div|em|font|h[1-6]|hr|i|img|li|ol|p|pre|s|small|"
    "span|strike|strong|sub|sup|table|td|th|tr|tt|u|ul|math|mi|mo|mn|msup|msub|mrow|iframe|object"
)
_SCRIPT_OPEN = re.compile(r"<(script|style)\b[^<>]{0,1000}>", re.IGNORECASE)
_SCRIPT_CLOSE = {
    name: re.compile(rf"</{name}\s{{0,100}}>", re.IGNORECASE) for name in ("script", "style")
}
_TAG = re.compile(
    rf"</?(?:{_HTML_TAG_NAMES}|script|style)(?=[\s/>])[^<>]{{0,1000}}>", re.IGNORECASE
)
_BLOCK_TAG = re.compile(r"</?(?:br|p|div|li|tr|h[1-6]|hr|blockquote)\b", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
# Control characters, and the bidirectional overrides and isolates that can make a title
# display as something else (U+202A–U+202E, U+2066–U+2069).
_CONTROL = dict.fromkeys(
    [
        *(c for c in range(32) if c not in (9, 10, 13)),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
)


def parse_arxiv_id(raw: str) -> tuple[str, int | None]:
    """Split an arXiv id, URL or OAI identifier into (id without version, version or None)."""
    text = _ID_PREFIX.sub("", raw.strip())
    text = text.removesuffix(".pdf")
    for pattern in (_NEW_ID, _OLD_ID):
        match = pattern.fullmatch(text)
        if match:
            version = match.group("v")
            return match.group("id"), int(version) if version else None
    raise BadRecord(f"not an arXiv id: {raw[:80]!r}")


_ARXIV_LINK = re.compile(
    r"^https?://(?:www\.|export\.)?arxiv\.org/(abs|pdf)/([^?#\s]{1,100}?)/?$", re.IGNORECASE
)


def canonical_arxiv_link(url: str | None) -> str | None:
    """An arxiv.org abstract or PDF link in one form, https and without a version
    (`http://arxiv.org/pdf/2502.16886v1.pdf` → `https://arxiv.org/pdf/2502.16886`), so two
    sources that spell it differently do not rewrite the paper back and forth. Anything else
    is returned as it is."""
    if not url:
        return url
    match = _ARXIV_LINK.match(url.strip())
    if not match:
        return url
    try:
        arxiv_id, _ = parse_arxiv_id(match.group(2))
    except BadRecord:
        return url
    return f"https://arxiv.org/{match.group(1).lower()}/{arxiv_id}"


_MONTH_OF_ID = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
ID_MONTH_SLACK = timedelta(days=7)


def plausible_first_date(arxiv_id: str, when: datetime | None) -> datetime | None:
    """`when` if it can be the first version's date of `arxiv_id`, else None.

    A new-style id names the month its first version was submitted (2502.16886: February
    2025), give or take a few days around the month's edges. Other sites' "published" dates
    are sometimes the day they listed the paper (Hugging Face gave 2026-06-26 for 2502.16886):
    such a date is dropped rather than stored as the paper's.
    """
    match = _MONTH_OF_ID.match(arxiv_id)
    if when is None or not match:
        return when
    year, month = 2000 + int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return when
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return when if start - ID_MONTH_SLACK <= when < end + ID_MONTH_SLACK else None


def looks_like_arxiv_id(raw: str) -> bool:
    try:
        parse_arxiv_id(raw)
    except BadRecord:
        return False
    return True


def local_paper_id(title: str) -> str:
    """A stable id for a paper with no arXiv id, derived from its normalised title."""
    key = clean_text(title).casefold()
    key = unicodedata.normalize("NFKD", key)
    key = re.sub(r"[^\w]+", " ", key).strip()
    return "local:" + hashlib.sha1(key.encode()).hexdigest()[:16]


def clean_text(raw: str | None) -> str:
    """Collapse whitespace, unescape entities, drop HTML tags and control characters."""
    if not raw:
        return ""
    text = raw.translate(_CONTROL)
    if "<" in text:
        text = _drop_scripts(text)
        text = _TAG.sub(lambda m: " " if _BLOCK_TAG.match(m.group()) else "", text)
    if "&" in text:
        text = html.unescape(text)
    return _SPACE.sub(" ", text).strip()


def _drop_scripts(text: str) -> str:
    """Remove each <script>…</script> and <style>…</style> with what is inside, in linear time.

    An opening tag with no closing one is left to the tag pass (only the tag goes). Once a
    closing tag is known to be missing after some point, later openings do not search again:
    that is what keeps thousands of unclosed <script> tags linear (a lazy regex rescans to the
    end for each).
    """
    kept: list[str] = []
    done = 0
    no_close_after: dict[str, int] = {}  # name -> a position after which it never closes
    for opening in _SCRIPT_OPEN.finditer(text):
        if opening.start() < done:
            continue  # inside an element already removed
        name = opening.group(1).lower()
        if opening.end() >= no_close_after.get(name, len(text) + 1):
            continue
        closing = _SCRIPT_CLOSE[name].search(text, opening.end())
        if closing is None:
            no_close_after[name] = opening.end()
            continue
        kept += [text[done : opening.start()], " "]
        done = closing.end()
    kept.append(text[done:])
    return "".join(kept)


def clean_abstract(raw: str | None) -> str:
    """Like clean_text, but keep paragraph breaks (a blank line or an indented line in arXiv)."""
    if not raw:
        return ""
    text = raw.translate(_CONTROL).replace("\r\n", "\n").strip()
    paragraphs = re.split(r"\n\s*\n|\n(?=[ \t]+\S)", text)
    return "\n\n".join(p for p in (clean_text(p) for p in paragraphs) if p)


def split_authors(raw: str) -> list[str]:
    """Split arXiv's author string ("A, B and C") into names, keeping order."""
    text = clean_text(re.sub(r"\([^()]*\)", " ", raw))  # drop affiliations in parentheses
    parts = re.split(r",\s*(?:and\s+)?|\s+and\s+", text)
    return [p.strip() for p in parts if p.strip()]


def parse_categories(raw: str | list[str] | None) -> list[str]:
    """Categories as an ordered list without duplicates, from "cs.AI cs.LG" or a list."""
    if not raw:
        return []
    items = raw.split() if isinstance(raw, str) else [str(c).strip() for c in raw]
    return list(dict.fromkeys(c for c in items if c))


def parse_datetime(raw: str | date | datetime | None) -> datetime | None:
    """Parse the date formats the sources use into an aware UTC datetime, or None if empty.

    Handles ISO 8601 ("2024-05-27", "2026-08-03T00:00:00.000Z"), "2025-03-01 23:34:02 UTC",
    and RFC 2822 ("Mon, 2 Apr 2007 19:18:42 GMT"). Raises BadRecord on anything else.
    """
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    if isinstance(raw, date):
        return datetime(raw.year, raw.month, raw.day, tzinfo=UTC)
    text = str(raw).strip()
    if text[3:4] == ",":
        fast = _parse_rfc2822_gmt(text)
        if fast is not None:
            return fast
    iso = text.removesuffix(" UTC").replace("Z", "+00:00")
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        try:
            value = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise BadRecord(f"unreadable date: {text[:40]!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 falls before year 1 in UTC
        raise BadRecord(f"date out of range: {text[:40]!r}") from None


_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _parse_rfc2822_gmt(text: str) -> datetime | None:
    """ "Mon, 2 Apr 2007 19:18:42 GMT" (the arXiv snapshot's version dates), 5x faster than
    email.utils; None for any other shape, which then takes the general path."""
    parts = text.split()
    if len(parts) != 6 or parts[5] != "GMT" or parts[2] not in _MONTHS:
        return None
    clock = parts[4].split(":")
    try:
        return datetime(
            int(parts[3]),
            _MONTHS[parts[2]],
            int(parts[1]),
            int(clock[0]),
            int(clock[1]),
            int(clock[2]) if len(clock) > 2 else 0,
            tzinfo=UTC,
        )
    except (ValueError, IndexError):
        return None


def abs_url_for(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url_for(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"
