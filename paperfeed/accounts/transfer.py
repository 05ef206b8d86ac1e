"""Export a person's library as JSON (everything, lossless) or BibTeX (saved papers, with
their collections in JabRef's `groups` field), and import either back.

An import links papers this instance already has; papers it does not have are listed in the
report rather than created, so one person's file cannot add papers to everyone's catalogue.
"""

from __future__ import annotations

import re
from datetime import datetime

import bibtexparser
import orjson
import sqlalchemy as sa
from bibtexparser.model import Entry, ParsingFailedBlock

from paperfeed import catalog
from paperfeed.accounts.library import MAX_COLLECTIONS, collection_name, library
from paperfeed.errors import RECORD_ERRORS, InvalidInput, NotFound
from paperfeed.ingest.sources.bibtex import paper_from_entry
from paperfeed.storage import library as store
from paperfeed.storage import papers
from paperfeed.storage.db import writing

FORMAT = "paperfeed-library"
MAX_IMPORT_BYTES = 5 * 2**20
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9:._-]")


def export_json(engine: sa.Engine, user: dict, now: datetime) -> dict:
    shelf = library(engine, user)
    return {
        "format": FORMAT,
        "version": 1,
        "exported_at": now.isoformat(),
        "email": shelf["email"],
        "saved": [
            {"id": p["id"], "title": p["title"], "saved_at": p["saved_at"]} for p in shelf["saved"]
        ],
        "upvoted": shelf["upvoted"],
        "collections": [{"name": c["name"], "papers": c["papers"]} for c in shelf["collections"]],
    }


def export_bibtex(engine: sa.Engine, user: dict) -> str:
    shelf = library(engine, user)
    groups: dict[str, list[str]] = {}
    for c in shelf["collections"]:
        for paper_id in c["papers"]:
            groups.setdefault(paper_id, []).append(c["name"])
    entries = [
        _bibtex_entry(p, groups.get(p["id"], [])) for p in shelf["saved"] if not p.get("missing")
    ]
    return "\n".join(entries)


def _bibtex_entry(paper: dict, groups: list[str]) -> str:
    fields = {
        "title": paper["title"],
        "author": " and ".join(paper["authors"]),
        "year": (paper.get("published_at") or "")[:4],
        "abstract": paper.get("abstract"),
        "doi": paper.get("doi"),
        "url": paper["links"].get("abstract"),
        "groups": ", ".join(groups),
    }
    if paper.get("arxiv_id"):
        fields |= {
            "eprint": paper["id"],
            "archiveprefix": "arXiv",
            "primaryclass": paper.get("primary_category"),
        }
    body = ",\n".join(
        f"  {name} = {{{_bibtex_value(value)}}}" for name, value in fields.items() if value
    )
    return f"@misc{{{_KEY_UNSAFE.sub('_', paper['id'])},\n{body}\n}}\n"


def _bibtex_value(text: str) -> str:
    """Text safe inside one pair of braces: balanced braces kept (TeX such as $\\mathcal{O}$),
    any other brace dropped, so no value can close its field and start another."""
    text = " ".join(str(text).split())
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            break
    if depth != 0:
        text = text.replace("{", "").replace("}", "")
    return text


def import_library(engine: sa.Engine, user: dict, data: bytes, now: datetime) -> dict:
    """Import a JSON export or a BibTeX file; returns what was linked and what was not."""
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_IMPORT_BYTES // 2**20} MiB")
    text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")
    if not text.strip():
        raise InvalidInput("the file is empty")
    if text.lstrip().startswith("{"):
        wanted = _wanted_from_json(text)
    else:
        wanted = _wanted_from_bibtex(text)
    return _apply(engine, user["id"], wanted, now)


def _wanted_from_json(text: str) -> dict:
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the file is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InvalidInput(f'the JSON file is not a paperfeed library export ("format": {FORMAT})')
    saved = [(_id_of(item), _when(item, "saved_at")) for item in _list(doc, "saved")]
    upvoted = [(_id_of(item), _when(item, "upvoted_at")) for item in _list(doc, "upvoted")]
    collections: dict[str, list[str]] = {}
    for item in _list(doc, "collections"):
        if not isinstance(item, dict):
            raise InvalidInput("each collection must be an object with a name and papers")
        name = collection_name(item.get("name"))
        collections.setdefault(name, []).extend(_id_of(p) for p in _list(item, "papers"))
    return {"saved": saved, "upvoted": upvoted, "collections": collections, "failed": []}


def _list(doc: dict, key: str) -> list:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise InvalidInput(f'"{key}" must be a list')
    return value


def _id_of(item: object) -> str:
    raw = item.get("id") if isinstance(item, dict) else item
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput("every paper in the file needs an id")
    return raw


def _when(item: object, key: str) -> datetime | None:
    """When the paper was saved or upvoted, as the file says; an import then does not look
    like a burst of fresh engagement to trending."""
    raw = item.get(key) if isinstance(item, dict) else None
    try:
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _wanted_from_bibtex(text: str) -> dict:
    parsed = bibtexparser.parse_string(text)
    saved: list[tuple[str, datetime | None]] = []
    collections: dict[str, list[str]] = {}
    failed: list[str] = []
    for block in parsed.blocks:
        if isinstance(block, ParsingFailedBlock):
            failed.append(f"line {(block.start_line or 0) + 1}: not a well-formed entry")
            continue
        if not isinstance(block, Entry):
            continue
        try:
            paper_id = paper_from_entry(block, "bibtex").id
        except RECORD_ERRORS as exc:
            failed.append(f"{block.key[:80]}: {exc}")
            continue
        saved.append((paper_id, None))
        groups = block.fields_dict.get("groups")
        for name in (groups.value if groups else "").split(","):
            if name.strip():
                collections.setdefault(collection_name(name), []).append(paper_id)
    if not saved and not failed:
        raise InvalidInput("the file holds no BibTeX entries and is not a JSON export")
    return {"saved": saved, "upvoted": [], "collections": collections, "failed": failed}


def _apply(engine: sa.Engine, user_id: int, wanted: dict, now: datetime) -> dict:
    failed: list[str] = list(wanted["failed"])
    ids: dict[str, str | None] = {}
    marked = [raw for raw, _ in [*wanted["saved"], *wanted["upvoted"]]]
    for raw in [*marked, *(raw for members in wanted["collections"].values() for raw in members)]:
        if raw not in ids:
            try:
                ids[raw] = catalog.canonical_id(raw)
            except NotFound:
                ids[raw] = None
                failed.append(f"{raw[:80]}: not a paper id")
    with writing(engine) as conn:
        known = set(papers.get_stored(conn, [i for i in ids.values() if i]))
        missing = sorted({i for i in ids.values() if i and i not in known})
        counts = {"saved": 0, "upvoted": 0, "collections": 0}
        for kind, key in (("save", "saved"), ("upvote", "upvoted")):
            for raw, at in wanted[key]:
                paper_id = ids[raw]
                if paper_id in known:
                    at = min(at, now) if at and at.tzinfo else now
                    counts[key] += store.mark(conn, kind, user_id, paper_id, at)
        existing = len(store.collections_of(conn, user_id))
        for name, members in wanted["collections"].items():
            if existing + counts["collections"] >= MAX_COLLECTIONS:
                failed.append(f"{name[:80]}: a library holds at most {MAX_COLLECTIONS} collections")
                continue
            collection_id = store.create_collection(conn, user_id, name, now)
            counts["collections"] += 1
            for raw in members:
                member_id = ids[raw]
                if member_id in known:
                    store.mark(conn, "save", user_id, member_id, now)
                    store.add_to_collection(conn, collection_id, member_id, now)
    return {**counts, "not_on_this_instance": missing, "failed": failed}
