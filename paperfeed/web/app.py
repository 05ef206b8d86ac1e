"""create_app(services): every URL of the web UI and JSON API in one table.

Handlers parse the request, call the domain (`paperfeed.catalog`, the search service) and
render. Each HTML page has a JSON twin built from the same dict, so the two cannot drift apart.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from paperfeed.services import Services
from paperfeed.web import pages, search
from paperfeed.web.errors import EXCEPTION_HANDLERS


def create_app(services: Services) -> Starlette:
    routes = [
        Route("/", pages.home_page, name="home"),
        Route("/search", search.search_page, name="search"),
        Route("/search.json", search.search_json, name="search_json"),
        Route("/papers/{paper_id:path}", pages.paper_page, name="paper"),
        Route("/api/papers", pages.papers_api, name="papers_api"),
        Route("/api/papers/{paper_id:path}", pages.paper_api, name="paper_api"),
        Route("/api/search", search.search_json, name="search_api"),
        Route("/api/similar", search.similar_api, name="similar_api"),
        Route("/api/stats", pages.stats_api, name="stats_api"),
        Route("/healthz", pages.health_check, name="healthz"),
    ]
    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS)
    app.state.services = services
    return app
