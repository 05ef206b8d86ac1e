"""Field readers shared by the file-format and Hugging Face parsers.

They turn one loosely typed value of a record (JSON, CSV, BibTeX, a Python literal) into what a
`Paper` holds, and raise `BadRecord` with a one-line reason when a value cannot be used, so
every parser reports the same problem the same way. Also here: a small TeX-to-Unicode decoder
for the accents BibTeX libraries and the arXiv metadata snapshot carry ({\\"o} -> ö).

The `fast_clean_*` shortcuts give exactly what normalize.clean_text/clean_abstract give, only
faster on plain text, which bulk loads of 20,000+ papers/s need.

Called by `file_formats`, `arxiv_snapshot`, `bibtex` and `hf_daily`; pure functions, no I/O,
never logs.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, datetime

from paperfeed.errors import BadRecord
from paperfeed.ingest.normalize import clean_abstract, clean_text, parse_datetime, split_authors
from paperfeed.models import Version

# Caps on raw lengths: real titles stay under 400 characters and abstracts under 5,000, so
# anything far beyond is hostile or broken, and refusing it early keeps cleaning cheap.
MAX_TITLE_CHARS = 5_000
MAX_ABSTRACT_CHARS = 200_000
MAX_TEXT_CHARS = 50_000
MAX_URL_CHARS = 2_000

_WHITESPACE = re.compile(r"\s+")
# Bytes that make ASCII text need the full clean: controls (tab and CR too; newlines are
# turned into spaces first), DEL, and the starts of HTML tags and entities.
_UNPLAIN_BYTES = bytes(range(32)) + b"\x7f<&"
# The same paragraph rule as normalize.clean_abstract: a blank line or an indented line.
_PARAGRAPH = re.compile(r"\n\s*\n|\n(?=[ \t]+\S)")


def fast_clean_text(raw: str) -> str:
    """Exactly normalize.clean_text, several times faster on plain text (the bulk-load case).

    Once newlines become spaces, a printable string holds no control characters and no
    whitespace but " " (every other whitespace character is unprintable); without "<" and
    "&" there is no markup either, so cleaning is only collapsing spaces.
    """
    text = raw.replace("\n", " ")
    if _is_plain(text):
        return text.strip() if "  " not in text else " ".join(text.split())
    return clean_text(raw)


def fast_clean_abstract(raw: str) -> str:
    """Exactly normalize.clean_abstract, several times faster on plain text.

    Without a double space after newlines become spaces, there is no blank or indented line,
    so the abstract is one paragraph (see fast_clean_text for the rest of the reasoning).
    """
    text = raw.replace("\n", " ")
    if _is_plain(text):
        if "  " not in text:
            return text.strip()
        paragraphs = _PARAGRAPH.split(raw.strip())
        return "\n\n".join(p for p in (" ".join(p.split()) for p in paragraphs) if p)
    return clean_abstract(raw)


def _is_plain(text: str) -> bool:
    """No control character, no whitespace but " ", no "<" or "&" (newlines already spaces)."""
    if text.isascii():
        data = text.encode("ascii")  # a C-speed scan; isprintable() is 3x slower on ASCII
        return len(data.translate(None, _UNPLAIN_BYTES)) == len(data)
    return text.isprintable() and "<" not in text and "&" not in text


def read_title(value: object) -> str:
    """The cleaned title; BadRecord when it is missing, empty, not text or absurdly long."""
    if value is None or value == "":
        raise BadRecord("no title")
    if type(value) is not str:
        raise BadRecord("title is not text")
    if len(value) > MAX_TITLE_CHARS:
        raise BadRecord(f"title is longer than {MAX_TITLE_CHARS} characters")
    title = fast_clean_text(value)
    if not title:
        raise BadRecord("no title")
    return title


def read_abstract(value: object) -> str:
    if value is None or value == "":
        return ""
    if type(value) is not str:
        raise BadRecord("abstract is not text")
    if len(value) > MAX_ABSTRACT_CHARS:
        raise BadRecord(f"abstract is longer than {MAX_ABSTRACT_CHARS} characters")
    return fast_clean_abstract(value)


def read_text(value: object, field: str) -> str | None:
    """A short free-text field (comment, journal_ref, doi...) cleaned, or None when empty."""
    if value is None or value == "":
        return None
    if type(value) is not str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        else:
            raise BadRecord(f"{field} is not text")
    if len(value) > MAX_TEXT_CHARS:
        raise BadRecord(f"{field} is longer than {MAX_TEXT_CHARS} characters")
    return fast_clean_text(value) or None


def read_url(value: object) -> str | None:
    """An http(s) URL with stray whitespace removed, or None when absent or not a web URL.

    Upstream data holds URLs broken over lines ("https://github.com/\\nowner/repo") and with
    leading spaces; anything that is not http(s) (javascript:, mailto:) is dropped, not failed.
    """
    if type(value) is not str or not value or len(value) > MAX_URL_CHARS:
        return None
    url = _WHITESPACE.sub("", value)
    lowered = url[:8].lower()
    if not (lowered.startswith("https://") or lowered.startswith("http://")) or len(url) < 11:
        return None
    if any(c in url for c in "<>\"'"):
        return None
    return url


def read_count(value: object) -> float | None:
    """A non-negative finite number (upvotes, stars), or None when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number) or number < 0:
        return None
    return number


def read_datetime(value: object, field: str) -> datetime | None:
    """An aware UTC datetime; BadRecord naming the field when the value is not a date."""
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise BadRecord(f"{field} is not a date")
    if len(value) == 23 and value.endswith(" UTC"):
        # "2024-01-01 23:33:56 UTC", the arXiv listing form: a shortcut past parse_datetime.
        try:
            return datetime.fromisoformat(value[:19]).replace(tzinfo=UTC)
        except ValueError:
            pass
    try:
        return parse_datetime(value)
    except BadRecord:
        raise BadRecord(f"unreadable date in {field}: {value[:40]!r}") from None


def read_authors(value: object) -> list[str]:
    """Authors from a list of names, a list of {"name": ...}, or an "A, B and C" / "A; B" string."""
    if value is None or value == "":
        return []
    if type(value) is str:
        if len(value) > MAX_TEXT_CHARS:
            raise BadRecord(f"authors are longer than {MAX_TEXT_CHARS} characters")
        return split_author_string(value)
    if type(value) is not list:
        raise BadRecord("authors are neither a list nor text")
    try:
        joined = "|".join(value)
    except TypeError:
        joined = ""  # not all plain strings: the per-name path below
    if joined and "\n" not in joined and "  " not in joined and _is_plain(joined):
        # Bulk-load shortcut: one scan for the whole list gives what fast_clean_text would.
        return [name.strip() for name in value if name.strip() and len(name) <= 1_000]
    names = []
    for item in value:
        if type(item) is dict:
            item = item.get("name")
        if type(item) is not str:
            continue
        name = fast_clean_text(item) if len(item) <= 1_000 else ""
        if name:
            names.append(name)
    return names


def split_author_string(text: str) -> list[str]:
    """Split "A, B and C" (arXiv style) or "Last, First; Other, Name" (semicolon lists)."""
    if ";" not in text:
        return split_authors(text)
    names = (flip_name(clean_text(part)) for part in text.split(";"))
    return [name for name in names if name]


def flip_name(name: str) -> str:
    """BibTeX-style "Last, First" or "Last, Jr, First" as "First Last [Jr]"; others unchanged."""
    parts = [p.strip() for p in name.split(",")]
    if len(parts) == 2 and all(parts):
        return f"{parts[1]} {parts[0]}"
    if len(parts) == 3 and parts[0] and parts[2]:
        return " ".join(p for p in (parts[2], parts[0], parts[1]) if p)
    return name.strip()


def read_categories(value: object) -> list[str]:
    """Categories from a list or a "cs.AI cs.LG" / "cs.AI, cs.LG" string, ordered and unique."""
    if value is None or value == "":
        return []
    if type(value) is str:
        items = value.replace(",", " ").split()
    elif type(value) is list:
        items = [c.strip() for c in value if type(c) is str]
    else:
        raise BadRecord("categories are neither a list nor text")
    return list(dict.fromkeys(c for c in items if c and len(c) <= 50))


def read_version(value: object) -> int | None:
    """A version number from 2, "2" or "v2"; None when absent."""
    if value is None or value == "":
        return None
    if type(value) is int and value > 0:
        return value
    if type(value) is str:
        text = value.strip().lower().removeprefix("v")
        if text.isdigit() and 0 < int(text) < 10_000:
            return int(text)
    raise BadRecord(f"unreadable version: {str(value)[:20]!r}")


def read_versions(value: object) -> list[Version]:
    """Versions from [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}, ...]."""
    if not value:
        return []
    if type(value) is not list:
        raise BadRecord("versions is not a list")
    versions = []
    for item in value:
        if type(item) is not dict:
            raise BadRecord("versions holds something other than objects")
        number = read_version(item.get("version"))
        if number is not None:
            versions.append(Version(number, read_datetime(item.get("created"), "versions")))
    versions.sort(key=lambda v: v.number)
    return versions


# --- TeX to Unicode --------------------------------------------------------------------------

_COMBINING = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
}
_LETTERS = {
    "ss": "ß",
    "o": "ø",
    "O": "Ø",
    "aa": "å",
    "AA": "Å",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
}
_BASE = r"(\\[ij](?![A-Za-z])|[A-Za-z])"
# \'e  \'{e}  \' e ; letter-named accents (\c, \v...) need braces or a space: \c{c}, \v s.
_SYMBOL_ACCENT = re.compile(r"""\\([`'^"~=.])\s*(?:\{\s*""" + _BASE + r"\s*\}|" + _BASE + ")")
_LETTER_ACCENT = re.compile(r"\\([uvHckrdb])(?:\s*\{\s*" + _BASE + r"\s*\}|\s+" + _BASE + ")")
_LETTER = re.compile(r"\\(ss|aa|AA|ae|AE|oe|OE|o|O|l|L|i|j)(?![A-Za-z])(?:\{\}|\s*)")
_FONT = re.compile(
    r"\\(?:text(?:bf|it|sl|sc|rm|sf|tt|up|normal)|emph|mbox|text|bf|it|em|sc|rm|sf|tt|sl)"
    r"(?![A-Za-z])\s*"
)
_BRACE = re.compile(r"(?<!\\)[{}]")
# An unknown command keeps its name and gets a space before its argument's braces go.
_UNKNOWN_COMMAND = re.compile(r"(\\[A-Za-z]+)\{")
_ESCAPED = re.compile(r"\\([&%$#_{}])")
_TIE = re.compile(r"(?<!\\)~")
_MATH_SPLIT = re.compile(r"(?<!\\)\$")


def tex_to_text(text: str) -> str:
    """Decode simple TeX outside $math$: accents, special letters, font commands, braces.

    Unknown commands are kept as written; math between dollars is left untouched.
    """
    if "\\" not in text and "{" not in text and "~" not in text:
        return text
    parts = _MATH_SPLIT.split(text)
    for i in range(0, len(parts), 2):
        parts[i] = _decode_tex_segment(parts[i])
    return unicodedata.normalize("NFC", "$".join(parts))


def _decode_tex_segment(text: str) -> str:
    text = _SYMBOL_ACCENT.sub(_accented, text)
    text = _LETTER_ACCENT.sub(_accented, text)
    text = _LETTER.sub(lambda m: _LETTERS[m.group(1)], text)
    text = _FONT.sub("", text)
    text = _UNKNOWN_COMMAND.sub(r"\1 {", text)
    text = _BRACE.sub("", text)
    text = _ESCAPED.sub(r"\1", text)
    return _TIE.sub(" ", text)


def _accented(match: re.Match) -> str:
    base = match.group(2) or match.group(3)
    if base.startswith("\\"):
        base = base[1]  # an accent over dotless i/j means a plain accented i/j
    return base + _COMBINING[match.group(1)]
