"""create_app(services): every URL of the web UI and JSON API in one table.

Handlers parse the request, call the domain (`paperfeed.catalog`, the search service) and
render. Each HTML page has a JSON twin built from the same dict, so the two cannot drift apart.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from paperfeed.services import Services
from paperfeed.web import (
    account,
    api_docs,
    digest,
    feeds,
    hf_compat,
    library,
    pages,
    search,
    trending,
)
from paperfeed.web.errors import EXCEPTION_HANDLERS
from paperfeed.web.limits import BodyLimit
from paperfeed.web.mail_queue import MailQueue
from paperfeed.web.security import SecurityHeaders
from paperfeed.web.session import Visitors
from paperfeed.web.static import STATIC_DIR, VersionedStaticFiles, version


def create_app(services: Services) -> Starlette:
    routes = [
        Route("/", trending.home_page, name="home"),
        Route("/trending.json", trending.trending_json, name="trending_json"),
        Route("/trending.atom", feeds.trending_feed, name="trending_atom"),
        Route("/trending.rss", feeds.trending_feed, name="trending_rss"),
        Route("/new", trending.new_page, name="new"),
        Route("/new.json", trending.new_json, name="new_json"),
        Route("/new.atom", feeds.new_feed, name="new_atom"),
        Route("/new.rss", feeds.new_feed, name="new_rss"),
        Route("/categories", trending.categories_page, name="categories"),
        Route("/categories.json", trending.categories_json, name="categories_json"),
        Route("/categories/{category}.json", trending.category_json, name="category_json"),
        Route("/categories/{category}.atom", feeds.category_feed, name="category_atom"),
        Route("/categories/{category}.rss", feeds.category_feed, name="category_rss"),
        Route("/categories/{category}", trending.category_page, name="category"),
        Route("/search", search.search_page, name="search"),
        Route("/search.json", search.search_json, name="search_json"),
        Route("/search.atom", feeds.search_feed, name="search_atom"),
        Route("/search.rss", feeds.search_feed, name="search_rss"),
        Route("/papers/{paper_id:path}/upvote", library.upvote_form, methods=["POST"]),
        Route("/papers/{paper_id:path}/save", library.save_form, methods=["POST"]),
        Route("/papers/{paper_id:path}", pages.paper_page, name="paper"),
        Route("/api/papers", pages.papers_api, name="papers_api"),
        Route("/api/papers/{paper_id:path}/upvote", library.upvote_api, methods=["POST", "DELETE"]),
        Route("/api/papers/{paper_id:path}/save", library.save_api, methods=["POST", "DELETE"]),
        Route("/api/papers/{paper_id:path}", pages.paper_api, name="paper_api"),
        Route("/api/search", search.search_json, name="search_api"),
        Route("/api/similar", search.similar_api, name="similar_api"),
        Route("/api/trending", trending.trending_json, name="trending_api"),
        Route("/api/categories", trending.categories_json, name="categories_api"),
        Route("/api/daily_papers", hf_compat.daily_papers, name="hf_daily_papers"),
        Route("/api/stats", pages.stats_api, name="stats_api"),
        Route("/api/openapi.json", api_docs.openapi_json, name="openapi_json"),
        Route("/api/docs", api_docs.api_docs_page, name="api_docs"),
        Route("/sign-in", account.sign_in_page, name="sign_in"),
        Route("/sign-in", account.request_link, methods=["POST"]),
        Route("/sign-in/confirm", account.confirm_page, name="sign_in_confirm"),
        Route("/sign-in/confirm", account.confirm, methods=["POST"]),
        Route("/sign-out", account.sign_out, methods=["POST"], name="sign_out"),
        Route("/library", library.library_page, name="library"),
        Route("/library.json", library.library_json, name="library_json"),
        Route("/library/export.json", library.export_json, name="export_json"),
        Route("/library/export.bib", library.export_bibtex, name="export_bibtex"),
        Route("/library/import", library.import_file, methods=["POST"], name="import"),
        Route("/library/collections", library.create_collection, methods=["POST"]),
        Route("/library/collections/{cid:int}.json", library.collection_json),
        Route("/library/collections/{cid:int}", library.collection_page, name="collection"),
        Route("/library/collections/{cid:int}/delete", library.delete_collection, methods=["POST"]),
        Route("/library/file", library.file_paper, methods=["POST"], name="file_paper"),
        Route("/subscribe", digest.subscribe_page, name="subscribe"),
        Route("/subscribe", digest.subscribe, methods=["POST"]),
        Route("/subscribe/confirm/{token}", digest.confirm_page, name="subscribe_confirm"),
        Route("/subscribe/confirm/{token}", digest.confirm, methods=["POST"]),
        Route("/subscription/{token}", digest.preferences_page, name="subscription"),
        Route("/subscription/{token}", digest.update_preferences, methods=["POST"]),
        Route("/unsubscribe/{token}", digest.unsubscribe_page, name="unsubscribe"),
        Route("/unsubscribe/{token}", digest.unsubscribe, methods=["POST"]),
        Route("/digest/feed/{token}", digest.digest_feed, name="digest_feed"),
        Route("/digest/vote/{token}", digest.vote_page, name="digest_vote"),
        Route("/digest/vote/{token}", digest.vote, methods=["POST"]),
        Route("/admin/digest", digest.preview_page, name="digest_preview"),
        Route("/healthz", pages.health_check, name="healthz"),
        Mount(f"/static/{version()}", VersionedStaticFiles(directory=STATIC_DIR)),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    https = services is not None and services.settings.public_url.startswith("https://")
    app = Starlette(
        routes=routes,
        lifespan=_lifespan,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            Middleware(SecurityHeaders, https=https),
            Middleware(BodyLimit),
            Middleware(Visitors),
        ],
    )
    app.state.services = services
    app.state.mail_queue = MailQueue(services) if services is not None else None
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    queue = app.state.mail_queue
    if queue is None:
        yield
        return
    async with queue.polling():
        yield
