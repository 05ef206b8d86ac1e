"""Map paperfeed errors to HTTP once: an HTML error page, or the one JSON error shape.

The JSON shape is `{"ok": false, "error": <message>, "status": <code>}` for every error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from paperfeed.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    NotSignedIn,
    PaperfeedError,
    TooLarge,
    TooManyRequests,
)
from paperfeed.web.templates import render

log = logging.getLogger(__name__)

STATUS_BY_ERROR = {  # the first class that matches wins: subclasses first
    TooLarge: 413,
    NotFound: 404,
    InvalidInput: 400,
    NotSignedIn: 401,
    Forbidden: 403,
    TooManyRequests: 429,
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.endswith(".json")


def error_response(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    if wants_json(request):
        return JSONResponse({"ok": False, "error": message, "status": status}, status, headers)
    html = render("error.html", request=request, status=status, message=message)
    return HTMLResponse(html, status, headers)


RETRY_AFTER_S = 30  # what a 503 asks clients to wait: a database restart, a busy writer


async def paperfeed_error(request: Request, exc: Exception) -> Response:
    status = next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 500)
    if status == 500:
        log.error("request failed path=%s error=%s", request.url.path, exc)
        message = "the service is unavailable: " + str(exc)
        return error_response(request, 503, message, {"retry-after": str(RETRY_AFTER_S)})
    # Closing the connection is what stops a client from sending the rest of a body too large.
    headers = {"connection": "close"} if status == 413 else {}
    if isinstance(exc, TooManyRequests) and exc.retry_after:
        headers["retry-after"] = str(exc.retry_after)
    return error_response(request, status, str(exc), headers or None)


async def database_error(request: Request, exc: Exception) -> Response:
    """The database refused or dropped the connection (stopped, restarting, or a SQLite file
    locked too long): a 503 every client understands, one log line, no traceback. The engine's
    pool reconnects by itself once the database is back (pool_pre_ping)."""
    log.warning("database unavailable path=%s error=%s", request.url.path, _first_line(exc))
    message = "the database is not answering; try again in a minute"
    return error_response(request, 503, message, {"retry-after": str(RETRY_AFTER_S)})


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # Keep the exception's headers: a 405 must say which methods are allowed (Allow).
    return error_response(request, exc.status_code, exc.detail, exc.headers)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error path=%s", request.url.path, exc_info=exc)
    return error_response(request, 500, "internal server error")


EXCEPTION_HANDLERS = {
    PaperfeedError: paperfeed_error,
    # Connection-level failures only; a query the database rejects (DataError, a constraint)
    # is a bug and stays a 500 with its traceback.
    OperationalError: database_error,
    InterfaceError: database_error,
    HTTPException: http_error,
    Exception: server_error,
}
