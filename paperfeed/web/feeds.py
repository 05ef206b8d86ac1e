"""Atom and RSS 2.0 feeds of trending, new papers and any search, with conditional GET.

A feed is built from the same dict as its HTML page, so a saved search or a category is a feed
a reader can follow. Every response carries an ETag (a hash of the body) and Last-Modified (the
newest change among its papers); a reader that sends them back gets 304 Not Modified.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import partial
from xml.etree import ElementTree as ET

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from paperfeed.web import search as search_pages
from paperfeed.web import trending as trending_pages
from paperfeed.web.cache import app_cache

ATOM = "http://www.w3.org/2005/Atom"
MEDIA = {"atom": "application/atom+xml; charset=utf-8", "rss": "application/rss+xml; charset=utf-8"}
# Characters XML 1.0 cannot carry at all; paper text is hostile and may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FEED_SIZE = 50
FEED_TTL_S = 60.0


def _clean(text: str | None) -> str:
    return _NOT_XML.sub("", text or "")


def _time(paper: dict, name: str) -> datetime | None:
    value = paper.get(name)
    return datetime.fromisoformat(value) if value else None


def _entry_times(paper: dict) -> tuple[datetime, datetime]:
    published = _time(paper, "published_at") or _time(paper, "first_seen_at")
    updated = _time(paper, "last_changed_at") or published or datetime.now(UTC)
    return published or updated, updated


def _summary(paper: dict) -> str:
    why = [paper["reason"]] if paper.get("reason") else paper.get("trending", {}).get("why") or []
    lead = ("Why it is here: " + "; ".join(why) + "\n\n") if why else ""
    return lead + (paper.get("abstract") or "")


def atom(title: str, self_url: str, page_url: str, papers: list[dict], base: str) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = _clean(title)
    ET.SubElement(feed, f"{{{ATOM}}}id").text = self_url
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=page_url)
    ET.SubElement(feed, f"{{{ATOM}}}generator").text = "paperfeed"
    newest = max((_entry_times(p)[1] for p in papers), default=datetime(1970, 1, 1, tzinfo=UTC))
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = newest.isoformat()
    for paper in papers:
        published, updated = _entry_times(paper)
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"{base}/papers/{paper['id']}"
        ET.SubElement(entry, f"{{{ATOM}}}title", type="text").text = _clean(paper["title"])
        ET.SubElement(
            entry, f"{{{ATOM}}}link", rel="alternate", href=f"{base}/papers/{paper['id']}"
        )
        pdf = paper.get("links", {}).get("pdf")
        if pdf and pdf.startswith(("https://", "http://")):
            ET.SubElement(entry, f"{{{ATOM}}}link", rel="related", type="application/pdf", href=pdf)
        ET.SubElement(entry, f"{{{ATOM}}}published").text = published.isoformat()
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = updated.isoformat()
        for name in paper.get("authors") or ["Unknown"]:
            author = ET.SubElement(entry, f"{{{ATOM}}}author")
            ET.SubElement(author, f"{{{ATOM}}}name").text = _clean(name)
        for category in paper.get("categories") or []:
            ET.SubElement(entry, f"{{{ATOM}}}category", term=_clean(category))
        ET.SubElement(entry, f"{{{ATOM}}}summary", type="text").text = _clean(_summary(paper))
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")


def rss(title: str, self_url: str, page_url: str, papers: list[dict], base: str) -> bytes:
    root = ET.Element("rss", version="2.0")
    channel = ET.SubElement(root, "channel")
    ET.SubElement(channel, "title").text = _clean(title)
    ET.SubElement(channel, "link").text = page_url
    ET.SubElement(channel, "description").text = _clean(title) + " · paperfeed"
    ET.SubElement(channel, "generator").text = "paperfeed"
    for paper in papers:
        published, _ = _entry_times(paper)
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = _clean(paper["title"])
        ET.SubElement(item, "link").text = f"{base}/papers/{paper['id']}"
        ET.SubElement(item, "guid", isPermaLink="true").text = f"{base}/papers/{paper['id']}"
        ET.SubElement(item, "pubDate").text = format_datetime(
            published.astimezone(UTC), usegmt=True
        )
        ET.SubElement(item, "description").text = _clean(_summary(paper))
        for category in paper.get("categories") or []:
            ET.SubElement(item, "category").text = _clean(category)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")


def feed_response(
    request: Request,
    kind: str,
    title: str,
    page_path: str,
    papers: list[dict],
    *,
    version: str | None = None,
    private: bool = False,
):
    """The feed as a response, or 304 when the reader already has this version.

    `version` names the data the papers come from (a trending list's as_of): the body built for
    one version and URL is reused for FEED_TTL_S instead of being built again (4 ms for 50
    papers). Feeds carry nothing about the visitor, so any reader may get the same body; a
    `private` one (a subscriber's own) is kept out of shared caches.
    """
    base = str(request.base_url).rstrip("/")
    query = f"?{request.url.query}" if request.url.query else ""
    self_url = f"{base}{request.url.path}{query}"
    page_url = f"{base}{page_path}{query}"
    build = partial(_build, kind, title, self_url, page_url, papers, base)
    if version is None:
        body, etag, newest = build()
    else:
        cache = app_cache(request, "feeds", FEED_TTL_S, stale_s=0, max_entries=64)
        body, etag, newest = cache.get_here((kind, self_url, title, version), build)
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(newest.astimezone(UTC), usegmt=True),
        "Cache-Control": f"{'private' if private else 'public'}, max-age=300",
    }
    if _not_modified(request, etag, newest):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA[kind], headers=headers)


def _build(kind: str, title: str, self_url: str, page_url: str, papers: list[dict], base: str):
    body = (atom if kind == "atom" else rss)(title, self_url, page_url, papers, base)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    newest = max((_entry_times(p)[1] for p in papers), default=datetime(1970, 1, 1, tzinfo=UTC))
    return body, etag, newest.replace(microsecond=0)


def _not_modified(request: Request, etag: str, newest: datetime) -> bool:
    matches = request.headers.get("if-none-match")
    if matches is not None:  # when both are sent, the ETag decides (RFC 9110 13.2.2)
        return etag in [tag.strip() for tag in matches.split(",")] or matches.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return newest <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _kind(request: Request) -> str:
    return "rss" if request.url.path.endswith(".rss") else "atom"


async def trending_feed(request: Request) -> Response:
    """/trending.atom and /trending.rss (window, category, date as on the page)."""
    listing = await trending_pages.trending_listing(request, None, limit=FEED_SIZE)
    where = f" in {listing['category']}" if listing["category"] else ""
    title = f"Trending{where} ({listing['window']})"
    return feed_response(
        request, _kind(request), title, "/", listing["papers"], version=listing["as_of"]
    )


async def category_feed(request: Request) -> Response:
    """/categories/{category}.atom and .rss: a category's trending list."""
    category = trending_pages.category_param(request.path_params["category"])
    listing = await trending_pages.trending_listing(request, category, limit=FEED_SIZE)
    title = f"Trending in {category} ({listing['window']})"
    page = f"/categories/{category}"
    return feed_response(
        request, _kind(request), title, page, listing["papers"], version=listing["as_of"]
    )


async def new_feed(request: Request) -> Response:
    """/new.atom and /new.rss: the newest papers (per category with ?category=)."""
    found = await trending_pages.newest(request, limit=FEED_SIZE)
    where = f" in {found['category']}" if found["category"] else ""
    return feed_response(request, _kind(request), f"New papers{where}", "/new", found["papers"])


async def search_feed(request: Request) -> Response:
    """/search.atom and /search.rss: any search, newest matches first unless ?sort= says."""
    options = search_pages.search_options(request, default_limit=FEED_SIZE)
    if "sort" not in request.query_params:
        options["sort"] = "date"  # a saved search follows what is new
    found = await run_in_threadpool(search_pages.run_search, request, options)
    papers = await run_in_threadpool(_full_papers, request, [r["id"] for r in found["results"]])
    title = f"Search: {options['q'][:100]}" if options["q"] else "Search"
    return feed_response(request, _kind(request), title, "/search", papers)


def _full_papers(request: Request, ids: list[str]) -> list[dict]:
    from paperfeed import catalog

    return catalog.get_papers(request.app.state.services.engine, ids)
