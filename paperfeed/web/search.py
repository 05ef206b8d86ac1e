"""Handlers for search and similar papers: the /search page, its JSON twin and the API.

All of them call SearchService.search / .similar, the functions the CLI calls too; the page
and its twin render the same response dict.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from paperfeed import catalog
from paperfeed.errors import InvalidInput, PaperfeedError
from paperfeed.search.service import MAX_SEEDS, MODES, SORTS
from paperfeed.web import params
from paperfeed.web.library import marks_for
from paperfeed.web.templates import render

log = logging.getLogger(__name__)

PAGE_SIZE = 20
MAX_QUERY_CHARS = 10_000
# The keyword index can only compare dates from 1677-09-21 to 2262-04-11 (nanoseconds since
# 1970 in 64 bits), and it holds no paper outside them: a day beyond becomes the nearest one.
SEARCHABLE_DAYS = (datetime(1678, 1, 1, tzinfo=UTC), datetime(2262, 1, 1, tzinfo=UTC))


def _search(request: Request):
    return request.app.state.services.search()


def _day(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"{name} must be a day written YYYY-MM-DD") from None
    return min(max(day, SEARCHABLE_DAYS[0]), SEARCHABLE_DAYS[1])


def _choice(request: Request, name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.query_params.get(name) or default
    if value not in choices:
        raise InvalidInput(f"{name} must be one of {', '.join(choices)}")
    return value


def search_options(request: Request, *, default_limit: int) -> dict:
    """The search form's fields, checked: q, mode, sort, category (repeatable), since, until."""
    until = _day(request, "until")
    limit = params.SEARCH_LIMIT.read(request, default_limit)
    page = params.SEARCH_PAGE.read(request)
    return {
        "q": request.query_params.get("q", "")[:MAX_QUERY_CHARS],
        "mode": _choice(request, "mode", MODES, "hybrid"),
        "sort": _choice(request, "sort", SORTS, "relevance"),
        "categories": [
            c
            for raw in request.query_params.getlist("category")
            for c in re.split(r"[\s,]+", raw)
            if c
        ][:20],
        "since": _day(request, "since"),
        # The form's "until" is a day the user includes; the search takes an exclusive end.
        "until": until + timedelta(days=1) if until else None,
        "limit": limit,
        "page": page,
    }


def run_search(request: Request, options: dict) -> dict:
    """The one response dict the page, its twin and /api/search render."""
    if not options["q"].strip() and not options["categories"]:
        return {"query": "", "mode": options["mode"], "notices": [], "results": [], "took_ms": 0}
    response = _search(request).search(
        options["q"],
        mode=options["mode"],
        limit=options["limit"],
        offset=(options["page"] - 1) * options["limit"],
        categories=options["categories"],
        since=options["since"],
        until=options["until"],
        sort=options["sort"],
    )
    return response.as_dict() | {"page": options["page"], "limit": options["limit"]}


async def search_page(request: Request) -> HTMLResponse:
    options = search_options(request, default_limit=PAGE_SIZE)
    found = await run_in_threadpool(run_search, request, options)
    form = {
        "q": options["q"],
        "mode": options["mode"],
        "sort": options["sort"],
        "category": " ".join(options["categories"]),
        "since": request.query_params.get("since", ""),
        "until": request.query_params.get("until", ""),
    }
    html = render(
        "search.html",
        request=request,
        found=found,
        marks=await marks_for(request, found["results"]),
        form=form,
        modes=MODES,
        has_next=len(found["results"]) == options["limit"],
        next_url=_page_url(request, options["page"] + 1),
        previous_url=_page_url(request, options["page"] - 1),
        feed_url=_feed_url(request) if options["q"].strip() else None,
        feed_title=f"Search: {options['q'][:80]}",
    )
    return HTMLResponse(html)


async def search_json(request: Request) -> JSONResponse:
    options = search_options(request, default_limit=PAGE_SIZE)
    return JSONResponse(await run_in_threadpool(run_search, request, options))


def _feed_url(request: Request) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "limit")]
    return "/search.atom?" + urlencode(params)


def _page_url(request: Request, page: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    return "/search?" + urlencode([*params, ("page", page)])


async def similar_api(request: Request) -> JSONResponse:
    """GET /api/similar?id=…&id=… (a reading list) or ?text=… (an abstract draft)."""
    raw_ids = [i for i in request.query_params.getlist("id") if i.strip()][: MAX_SEEDS + 1]
    text = request.query_params.get("text", "")[:MAX_QUERY_CHARS] or None
    limit = params.SIMILAR_LIMIT.read(request)
    ids = [catalog.canonical_id(raw) for raw in raw_ids]
    response = await run_in_threadpool(_search(request).similar, ids, text=text, limit=limit)
    return JSONResponse(response.as_dict())


def similar_to_paper(request: Request, paper_id: str, limit: int = 5) -> list[dict]:
    """The paper page's "similar papers" (by keywords until vectors exist); never an error."""
    try:
        return _search(request).similar([paper_id], limit=limit).results
    except PaperfeedError as exc:
        log.warning("similar papers unavailable paper_id=%s error=%s", paper_id, exc)
        return []
