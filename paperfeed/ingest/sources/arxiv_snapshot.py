"""Read the arXiv metadata snapshot: the JSON-lines dump arXiv publishes (Kaggle's
"arxiv-metadata-oai-snapshot"), one record per paper with `id`, `submitter`, `authors`,
`title`, `comments`, `journal-ref`, `doi`, `report-no`, `categories`, `license`, `abstract`,
`versions` [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}], `update_date` and
`authors_parsed` [[last, first, suffix]].

Versions give `version`, `published_at` (v1) and `updated_at` (the newest version); author
names come from `authors_parsed` ("first last suffix") when present, else from the `authors`
string, with TeX accents decoded (Bal\\'azs → Balázs). Titles and abstracts keep their TeX, as
the arXiv API returns them, so the same paper reads the same from either source.

Called by `bulk_file.BulkFileSource` through the file-format registry; no database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from paperfeed.errors import BadRecord
from paperfeed.ingest.normalize import abs_url_for, parse_arxiv_id, pdf_url_for
from paperfeed.ingest.sources.fields import (
    read_abstract,
    read_authors,
    read_categories,
    read_datetime,
    read_text,
    read_title,
    read_versions,
    tex_to_text,
)
from paperfeed.ingest.sources.file_formats import FileContext, Item, read_json_lines
from paperfeed.models import Paper


def read_snapshot_lines(stream: BinaryIO, ctx: FileContext, skip: int) -> Iterator[Item]:
    return read_json_lines(stream, ctx, skip, paper_from_snapshot)


def paper_from_snapshot(record: dict, source: str) -> Paper:
    """A Paper from one record of the arXiv metadata snapshot (Kaggle "arxiv-metadata-oai")."""
    get = record.get
    raw_id = get("id")
    if type(raw_id) is not str:
        raise BadRecord("no arXiv id")
    arxiv_id, version = parse_arxiv_id(raw_id)
    title = read_title(get("title"))
    versions = read_versions(get("versions"))
    if versions:
        version = versions[-1].number
    categories = read_categories(get("categories"))
    return Paper(
        id=arxiv_id,
        title=title,
        abstract=read_abstract(get("abstract")),
        authors=_snapshot_authors(get("authors_parsed"), get("authors")),
        categories=categories,
        primary_category=categories[0] if categories else None,
        version=version,
        versions=versions,
        published_at=versions[0].submitted_at if versions else None,
        updated_at=(versions[-1].submitted_at if versions else None)
        or read_datetime(get("update_date"), "update_date"),
        comment=read_text(get("comments"), "comments"),
        journal_ref=read_text(get("journal-ref"), "journal-ref"),
        doi=read_text(get("doi"), "doi"),
        abs_url=abs_url_for(arxiv_id),
        pdf_url=pdf_url_for(arxiv_id),
        source=source,
    )


def _snapshot_authors(parsed: object, raw: object) -> list[str]:
    """Names from authors_parsed ([last, first, suffix] → "first last suffix"), else the string.

    The snapshot writes accents in TeX (Bal\\'azs); they are decoded to Unicode.
    """
    if type(parsed) is list and parsed:
        names = []
        for parts in parsed:
            if type(parts) is not list:
                continue
            if (
                len(parts) >= 2
                and type(parts[0]) is str
                and type(parts[1]) is str
                and (len(parts) == 2 or not parts[2])
            ):
                name = f"{parts[1]} {parts[0]}" if parts[1] else parts[0]  # the usual shape
            else:
                words = [p for p in (parts[1:2] + parts[:1] + parts[2:3]) if type(p) is str and p]
                name = " ".join(words)
            if "\\" in name or "{" in name:
                name = tex_to_text(name)
            if name:
                names.append(name)
        return read_authors(names)
    if type(raw) is str and ("\\" in raw or "{" in raw):
        raw = tex_to_text(raw)
    return read_authors(raw)
