"""Decide what to store when a record arrives for a paper: pure, no I/O.

The same paper reaches paperfeed from several sources (an arXiv harvest, Hugging Face, a
reader's BibTeX) and in several versions. The rules, in order:
1. A newer arXiv version wins: its non-empty fields replace the stored ones.
2. An older version never overwrites; it only fills fields that are still empty.
3. For the same (or an unknown) version, arXiv's own sources outrank the others, so a
   Hugging Face title never flips an arXiv title back and forth; a lower-ranked source
   still fills empty fields (code links, upvoted summaries of papers arXiv has not sent yet).
4. Between two sources of the same rank, only arXiv's own sources, or the source the stored
   fields came from, overwrite: a Hugging Face archive and a JSON file of arXiv records loaded
   in turn fill each other's gaps and otherwise change nothing.
arXiv links are compared in one form (normalize.canonical_arxiv_link), so `http://…v1` and
`https://…` are the same link. The version list is the union of everything seen, so history
is kept.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from paperfeed.errors import BadRecord
from paperfeed.ingest.normalize import canonical_arxiv_link
from paperfeed.models import Paper, StoredPaper, Version

MAX_TITLE_CHARS = 1_000
MAX_ABSTRACT_CHARS = 50_000  # arXiv caps abstracts near 1,920 characters
MAX_AUTHORS = 5_000  # the largest physics collaborations list a few thousand
MAX_VERSION = 9_999
MAX_CATEGORY_CHARS = 64  # the width of the category columns

_MERGED_FIELDS = (
    "title",
    "abstract",
    "authors",
    "categories",
    "primary_category",
    "published_at",
    "updated_at",
    "comment",
    "journal_ref",
    "doi",
    "abs_url",
    "pdf_url",
    "code_url",
    "project_url",
)


def check_paper(paper: Paper) -> None:
    """Raise BadRecord when a record cannot be stored as a paper."""
    if not paper.id:
        raise BadRecord("record has no id")
    if not paper.title:
        raise BadRecord(f"{paper.id}: record has no title")
    if len(paper.title) > MAX_TITLE_CHARS:
        raise BadRecord(f"{paper.id}: title longer than {MAX_TITLE_CHARS} characters")
    if len(paper.abstract) > MAX_ABSTRACT_CHARS:
        raise BadRecord(f"{paper.id}: abstract longer than {MAX_ABSTRACT_CHARS} characters")
    if len(paper.authors) > MAX_AUTHORS:
        raise BadRecord(f"{paper.id}: more than {MAX_AUTHORS} authors")
    if paper.version is not None and not 1 <= paper.version <= MAX_VERSION:
        raise BadRecord(f"{paper.id}: version {paper.version} out of range")
    if any(len(c) > MAX_CATEGORY_CHARS for c in paper.categories) or (
        paper.primary_category and len(paper.primary_category) > MAX_CATEGORY_CHARS
    ):
        raise BadRecord(f"{paper.id}: a category longer than {MAX_CATEGORY_CHARS} characters")
    # PostgreSQL refuses NUL in text, so no field may carry one on either database.
    texts = [
        paper.title,
        paper.abstract,
        paper.comment,
        paper.journal_ref,
        paper.doi,
        paper.abs_url,
        paper.pdf_url,
        paper.code_url,
        paper.project_url,
        paper.primary_category,
        *paper.authors,
        *paper.categories,
    ]
    if any(text and "\x00" in text for text in texts):
        raise BadRecord(f"{paper.id}: a field contains a NUL character")


# arXiv's full records outrank its daily listing (whose dates are announcement dates), which
# outranks everything else.
ARXIV_RANK = 3
_SOURCE_RANKS = {
    "arxiv-oai": ARXIV_RANK,
    "arxiv-api": ARXIV_RANK,
    "arxiv-snapshot": ARXIV_RANK,
    "arxiv-listing": 2,
}


def source_rank(source: str) -> int:
    return _SOURCE_RANKS.get(source, 1)


def merge_paper(
    stored: StoredPaper | None, incoming: Paper, now: datetime
) -> tuple[StoredPaper, bool]:
    """The paper to store after `incoming`, and whether it differs from `stored`."""
    incoming = _with_canonical_links(incoming)
    if stored is None:
        paper = incoming
        if not _is_clean_history(incoming):
            versions = _merge_versions([], incoming.versions, True)
            numbers = [v.number for v in versions] + [incoming.version or 0]
            paper = replace(incoming, versions=versions, version=max(numbers))
        return StoredPaper(paper, [incoming.source], now, now), True

    current = stored.paper
    overwrite = _incoming_wins(current, incoming)
    changes = {}
    for name in _MERGED_FIELDS:
        new_value = getattr(incoming, name)
        if _is_empty(new_value):
            continue
        if overwrite or _is_empty(getattr(current, name)):
            changes[name] = new_value
    versions = _merge_versions(current.versions, incoming.versions, overwrite)
    current_version, incoming_version = current.version, incoming.version
    # A version number only counts when arXiv itself said it.
    if not _knows_versions(incoming) and current_version:
        versions = [v for v in versions if v.number <= current_version]
        incoming_version = None
    elif _knows_versions(incoming) and not _knows_versions(current) and incoming_version:
        versions = [v for v in versions if v.number <= incoming_version]
        current_version = None
    numbers = [n for n in (current_version, incoming_version) if n] + [v.number for v in versions]
    changes["versions"] = versions
    changes["version"] = max(numbers) if numbers else None
    if overwrite:
        changes["source"] = incoming.source
    paper = replace(current, **changes)
    sources = (
        stored.sources if incoming.source in stored.sources else [*stored.sources, incoming.source]
    )
    if paper == current and sources == stored.sources:
        return stored, False
    return StoredPaper(paper, sources, stored.first_seen_at, now), True


def _is_clean_history(paper: Paper) -> bool:
    """Versions strictly ascending and ending at `version`: nothing to tidy (the usual case)."""
    versions = paper.versions
    if not versions:
        return True
    numbers = [v.number for v in versions]
    ascending = all(a < b for a, b in zip(numbers, numbers[1:], strict=False))
    return ascending and paper.version == numbers[-1]


def _knows_versions(paper: Paper) -> bool:
    # Only arXiv's own sources know versions for sure; a "v9" in a reader's BibTeX does not.
    return source_rank(paper.source) > 1


def _incoming_wins(current: Paper, incoming: Paper) -> bool:
    both_know = _knows_versions(incoming) and _knows_versions(current)
    if both_know and incoming.version and current.version:
        if incoming.version != current.version:
            return incoming.version > current.version
    rank, stored_rank = source_rank(incoming.source), source_rank(current.source)
    if rank != stored_rank:
        return rank > stored_rank
    return rank == ARXIV_RANK or incoming.source == current.source


def _with_canonical_links(paper: Paper) -> Paper:
    abs_url, pdf_url = canonical_arxiv_link(paper.abs_url), canonical_arxiv_link(paper.pdf_url)
    if (abs_url, pdf_url) == (paper.abs_url, paper.pdf_url):
        return paper
    return replace(paper, abs_url=abs_url, pdf_url=pdf_url)


def _merge_versions(known: list[Version], seen: list[Version], seen_wins: bool) -> list[Version]:
    by_number = {v.number: v for v in known}
    for version in seen:
        old = by_number.get(version.number)
        if old is None or (version.submitted_at and (seen_wins or not old.submitted_at)):
            by_number[version.number] = version
    return [by_number[n] for n in sorted(by_number)]


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == []
