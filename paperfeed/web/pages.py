"""Handlers for paper pages (which count views), the papers API and the health check."""

from __future__ import annotations

import logging
from functools import partial

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from paperfeed import catalog
from paperfeed.errors import PaperfeedError
from paperfeed.trending.views import count_view_soon
from paperfeed.web import params
from paperfeed.web.cache import app_cache
from paperfeed.web.library import marks_for
from paperfeed.web.search import similar_to_paper
from paperfeed.web.templates import render

log = logging.getLogger(__name__)

# A paper's dict and its similar papers change only when papers are ingested or indexed, so
# pages read them through a short cache (web/cache.py); upvote and save counts and the
# visitor's own marks are still read on every request (marks_for).
PAPER_TTL_S = 30.0
SIMILAR_TTL_S = 300.0
HEALTH_COUNT_TTL_S = 60.0


async def _paper(request: Request, raw_id: str) -> dict:
    compute = partial(catalog.get_paper, params.services(request).engine, raw_id)
    return await app_cache(request, "papers", PAPER_TTL_S, max_entries=4096).get(raw_id, compute)


async def _similar(request: Request, paper_id: str) -> list[dict]:
    compute = partial(similar_to_paper, request, paper_id)
    cache = app_cache(request, "similar", SIMILAR_TTL_S, max_entries=4096)
    return await cache.get(paper_id, compute)


async def paper_page(request: Request) -> HTMLResponse | JSONResponse:
    paper_id = request.path_params["paper_id"]
    if paper_id.endswith(".json"):
        return JSONResponse(await _paper(request, paper_id[:-5]))
    paper = await _paper(request, paper_id)
    _count_view(request, paper["id"])
    similar = await _similar(request, paper["id"])
    marks = await marks_for(request, [paper])
    html = render("paper.html", request=request, paper=paper, similar=similar, marks=marks)
    return HTMLResponse(html)


def _count_view(request: Request, paper_id: str) -> None:
    """A person opening a paper page is a view for trending: queued here, stored within a
    second (trending.views); a failure never costs the page."""
    services = request.app.state.services
    try:
        count_view_soon(
            services.engine,
            paper_id,
            address=request.client.host if request.client else "",
            user_agent=request.headers.get("user-agent"),
            now=services.clock(),
        )
    except (PaperfeedError, sa.exc.SQLAlchemyError) as exc:
        log.warning("view not counted paper_id=%s error=%s", paper_id, exc)


async def papers_api(request: Request) -> JSONResponse:
    limit = params.PAPERS_LIMIT.read(request)
    offset = params.PAPERS_OFFSET.read(request)
    papers = await run_in_threadpool(
        catalog.list_papers, params.services(request).engine, limit=limit, offset=offset
    )
    return JSONResponse({"papers": papers, "limit": limit, "offset": offset})


async def paper_api(request: Request) -> JSONResponse:
    return JSONResponse(await _paper(request, request.path_params["paper_id"]))


async def stats_api(request: Request) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(catalog.stats, params.services(request).engine))


async def health_check(request: Request) -> JSONResponse:
    """For load balancers, every few seconds on every node: one cheap read proves the database
    answers; the paper count (a full count: 0.1 s and more at a million papers) comes from a
    cache at most about a minute old."""
    engine = params.services(request).engine
    try:
        await run_in_threadpool(catalog.check_database, engine)
    except sa.exc.SQLAlchemyError as exc:
        log.warning("health check: the database does not answer: %s", exc.__class__.__name__)
        return JSONResponse({"ok": False, "error": "the database does not answer"}, 503)
    count = await app_cache(request, "health", HEALTH_COUNT_TTL_S).get(
        "papers", partial(catalog.paper_count, engine)
    )
    return JSONResponse({"ok": True, "papers": count})
