"""Handlers for trending (the home page), new papers and categories, with their JSON twins.

Each page and its twin render one dict from the same call (Services.trending or catalog);
trending and the category counts come through a cache of a few seconds (web/cache.py).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import partial
from urllib.parse import urlencode

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from paperfeed import catalog
from paperfeed.errors import InvalidInput
from paperfeed.trending.score import WINDOWS
from paperfeed.trending.service import MAX_LIMIT, top_up
from paperfeed.trending.views import flush_views
from paperfeed.web import params
from paperfeed.web.cache import app_cache
from paperfeed.web.library import marks_for
from paperfeed.web.templates import render

PAGE_TRENDING = params.TRENDING_LIMIT.default
PAGE_NEW = 50
# Computing trending reads every view, upvote and reading in the window (about 20 ms at 20,000
# views a week), more than a page can pay each time: each window/category/day is computed at
# most every few seconds, for MAX_LIMIT papers, and every page, feed and API call takes its
# first `limit` (web/cache.py). A new view or upvote shows within about TRENDING_TTL_S.
TRENDING_TTL_S = 3.0
# Category counts change only when papers are ingested.
CATEGORIES_TTL_S = 60.0
_CATEGORY = re.compile(r"^[A-Za-z][A-Za-z0-9.\-]{0,63}$")
FIRST_DAY = date(1, 2, 1)


class FastJSONResponse(JSONResponse):
    """The same compact UTF-8 JSON as JSONResponse, by orjson: the 70 KiB trending list takes
    0.02 ms instead of 0.3 ms (NaN, which JSONResponse refuses, would read null)."""

    def render(self, content: object) -> bytes:
        return orjson.dumps(content)


def category_param(raw: str | None) -> str | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not _CATEGORY.match(raw):
        raise InvalidInput("category must look like cs.CL or math.AG")
    return raw


def _day(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        day = datetime.strptime(raw.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput("date must be a day written YYYY-MM-DD") from None
    # A window reaches 30 days back from the day, and the calendar starts at 0001-01-01.
    if day < FIRST_DAY:
        raise InvalidInput(f"date must be {FIRST_DAY} or later")
    return day


def trending_options(request: Request, category: str | None = None) -> dict:
    window = request.query_params.get("window") or "day"
    if window not in WINDOWS:
        raise InvalidInput(f"window must be one of {', '.join(WINDOWS)}")
    return {
        "window": window,
        "category": category or category_param(request.query_params.get("category")),
        "day": _day(request.query_params.get("date")),
        "limit": params.TRENDING_LIMIT.read(request),
    }


async def trending_listing(
    request: Request, category: str | None = None, *, limit: int | None = None
) -> dict:
    """The trending dict the page, its twin, the API and the feeds render."""
    options = trending_options(request, category)
    wanted = options["limit"] if limit is None else limit
    options["limit"] = MAX_LIMIT
    compute = partial(_trending_now, params.services(request), options)
    key = (options["window"], options["category"], options["day"])
    listing = await app_cache(request, "trending", TRENDING_TTL_S).get(key, compute)
    listing["papers"] = listing["papers"][:wanted]  # the top `wanted` of the top MAX_LIMIT
    return listing


def _trending_now(services, options: dict) -> dict:
    flush_views(services.engine)  # views this process queued count from now on, not a second late
    return services.trending(**options)


async def _categories(request: Request) -> list[dict]:
    compute = partial(catalog.list_categories, params.services(request).engine)
    return await app_cache(request, "categories", CATEGORIES_TTL_S).get("all", compute)


def _with_params(path: str, request: Request, **changes: object) -> str:
    """`path` with this request's query, changed: a value of None drops that parameter."""
    params: dict[str, object] = dict(request.query_params)
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    params = {k: v for k, v in params.items() if v != ""}
    return path + ("?" + urlencode(params) if params else "")


async def _page_listing(request: Request, category: str | None = None) -> dict:
    """The listing a page shows: a thin live window topped up with the newest papers."""
    listing = await trending_listing(request, category)
    limit = trending_options(request, category)["limit"]
    return await run_in_threadpool(top_up, params.services(request).engine, listing, limit)


async def home_page(request: Request) -> HTMLResponse:
    listing = await _page_listing(request)
    categories = await _categories(request)
    marks = await marks_for(request, listing["papers"])
    return HTMLResponse(_render_trending(request, listing, categories, "/", marks))


async def category_page(request: Request) -> HTMLResponse:
    category = category_param(request.path_params["category"])
    listing = await _page_listing(request, category)
    marks = await marks_for(request, listing["papers"])
    return HTMLResponse(_render_trending(request, listing, [], f"/categories/{category}", marks))


async def category_json(request: Request) -> JSONResponse:
    """/categories/{category}.json: a category page's list as JSON."""
    category = category_param(request.path_params["category"])
    return FastJSONResponse(await trending_listing(request, category))


def _render_trending(
    request: Request, listing: dict, categories: list, path: str, marks: dict
) -> str:
    twin = "/trending.json" if path == "/" else f"{path}.json"
    feed = "/trending.atom" if path == "/" else f"{path}.atom"
    return render(
        "trending.html",
        request=request,
        listing=listing,
        marks=marks,
        categories=categories,
        show_category_filter=path == "/",
        form_action=path,
        window_url=lambda window: _with_params(path, request, window=window),
        json_url=_with_params(twin, request),
        feed_url=_with_params(feed, request),
        feed_title=f"Trending{' in ' + listing['category'] if listing['category'] else ''}",
    )


async def trending_json(request: Request) -> JSONResponse:
    """/trending.json and /api/trending: the home page's list as JSON."""
    return FastJSONResponse(await trending_listing(request))


def _new_options(request: Request) -> dict:
    return {
        "category": category_param(request.query_params.get("category")),
        "page": params.NEW_PAGE.read(request),
    }


async def newest(request: Request, *, limit: int = PAGE_NEW) -> dict:
    """The new-papers dict the page, its twin and the feeds render."""
    options = _new_options(request)
    papers = await run_in_threadpool(
        catalog.list_papers,
        params.services(request).engine,
        limit=limit,
        offset=(options["page"] - 1) * limit,
        category=options["category"],
    )
    return {"category": options["category"], "page": options["page"], "papers": papers}


async def new_page(request: Request) -> HTMLResponse:
    found = await newest(request)
    html = render(
        "new.html",
        request=request,
        papers=found["papers"],
        marks=await marks_for(request, found["papers"]),
        category=found["category"],
        page=found["page"],
        page_size=PAGE_NEW,
        has_next=len(found["papers"]) == PAGE_NEW,
        page_url=lambda page: _with_params("/new", request, page=page),
        feed_url=_with_params("/new.atom", request, page=None),
        feed_title=f"New papers{' in ' + found['category'] if found['category'] else ''}",
    )
    return HTMLResponse(html)


async def new_json(request: Request) -> JSONResponse:
    return FastJSONResponse(await newest(request))


async def categories_page(request: Request) -> HTMLResponse:
    categories = await _categories(request)
    return HTMLResponse(render("categories.html", request=request, categories=categories))


async def categories_json(request: Request) -> JSONResponse:
    categories = await _categories(request)
    return FastJSONResponse({"categories": categories})
