"""Handlers for trending (the home page), new papers and categories, with their JSON twins.

Each page and its twin render one dict from the same call (Services.trending or catalog).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from paperfeed import catalog
from paperfeed.errors import InvalidInput
from paperfeed.trending.score import WINDOWS
from paperfeed.trending.service import MAX_LIMIT
from paperfeed.web.templates import render

PAGE_TRENDING = 30
PAGE_NEW = 50
_CATEGORY = re.compile(r"^[A-Za-z][A-Za-z0-9.\-]{0,63}$")


def _services(request: Request):  # noqa: ANN202
    return request.app.state.services


def _category(raw: str | None) -> str | None:
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
        return datetime.strptime(raw.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput("date must be a day written YYYY-MM-DD") from None


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}")
    return value


def trending_options(request: Request, category: str | None = None) -> dict:
    window = request.query_params.get("window") or "day"
    if window not in WINDOWS:
        raise InvalidInput(f"window must be one of {', '.join(WINDOWS)}")
    return {
        "window": window,
        "category": category or _category(request.query_params.get("category")),
        "day": _day(request.query_params.get("date")),
        "limit": _int(request, "limit", PAGE_TRENDING, 1, MAX_LIMIT),
    }


async def _trending(request: Request, category: str | None = None) -> dict:
    options = trending_options(request, category)
    return await run_in_threadpool(_services(request).trending, **options)


def _with_params(path: str, request: Request, **changes: object) -> str:
    params = dict(request.query_params) | {k: v for k, v in changes.items() if v is not None}
    params = {k: v for k, v in params.items() if v not in ("", None)}
    return path + ("?" + urlencode(params) if params else "")


async def home_page(request: Request) -> HTMLResponse:
    listing = await _trending(request)
    categories = await run_in_threadpool(catalog.list_categories, _services(request).engine)
    return HTMLResponse(_render_trending(request, listing, categories, "/"))


async def category_page(request: Request) -> HTMLResponse | JSONResponse:
    raw = request.path_params["category"]
    as_json = raw.endswith(".json")
    category = _category(raw[:-5] if as_json else raw)
    listing = await _trending(request, category)
    if as_json:
        return JSONResponse(listing)
    return HTMLResponse(_render_trending(request, listing, [], f"/categories/{category}"))


def _render_trending(request: Request, listing: dict, categories: list, path: str) -> str:
    twin = "/trending.json" if path == "/" else f"{path}.json"
    return render(
        "trending.html",
        request=request,
        listing=listing,
        categories=categories,
        show_category_filter=path == "/",
        form_action=path,
        window_url=lambda window: _with_params(path, request, window=window),
        json_url=_with_params(twin, request),
    )


async def trending_json(request: Request) -> JSONResponse:
    """/trending.json and /api/trending: the home page's list as JSON."""
    return JSONResponse(await _trending(request))


def _new_options(request: Request) -> dict:
    return {
        "category": _category(request.query_params.get("category")),
        "page": _int(request, "page", 1, 1, 10_000),
    }


async def _new(request: Request) -> dict:
    options = _new_options(request)
    papers = await run_in_threadpool(
        catalog.list_papers,
        _services(request).engine,
        limit=PAGE_NEW,
        offset=(options["page"] - 1) * PAGE_NEW,
        category=options["category"],
    )
    return {"category": options["category"], "page": options["page"], "papers": papers}


async def new_page(request: Request) -> HTMLResponse:
    found = await _new(request)
    html = render(
        "new.html",
        request=request,
        papers=found["papers"],
        category=found["category"],
        page=found["page"],
        page_size=PAGE_NEW,
        has_next=len(found["papers"]) == PAGE_NEW,
        page_url=lambda page: _with_params("/new", request, page=page),
    )
    return HTMLResponse(html)


async def new_json(request: Request) -> JSONResponse:
    return JSONResponse(await _new(request))


async def categories_page(request: Request) -> HTMLResponse:
    categories = await run_in_threadpool(catalog.list_categories, _services(request).engine)
    return HTMLResponse(render("categories.html", request=request, categories=categories))


async def categories_json(request: Request) -> JSONResponse:
    categories = await run_in_threadpool(catalog.list_categories, _services(request).engine)
    return JSONResponse({"categories": categories})
