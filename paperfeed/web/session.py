"""The visitor's two cookies: the session (who is signed in) and the CSRF token.

`pf_session` holds a random secret whose hash names a row in `sessions`; the middleware looks
it up once per request and puts the person in `request.state.user` (None when signed out).
`pf_csrf` is a random token set the first time a page renders a form; every state-changing
request must echo it back (a hidden form field, or the X-CSRF-Token header for the API), which
a page on another site cannot do. Both cookies are HttpOnly and SameSite=Lax.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping
from http.cookies import SimpleCookie
from typing import TypeGuard

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperfeed.accounts.signin import SESSION_LIFETIME, session_user
from paperfeed.errors import Forbidden, NotSignedIn

log = logging.getLogger(__name__)

SESSION_COOKIE = "pf_session"
CSRF_COOKIE = "pf_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_TOKEN_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _cookies(scope: Scope) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a mangled cookie header is just no cookies
                return {}
            return {key: morsel.value for key, morsel in jar.items()}
    return {}


def _looks_like_token(value: str | None) -> TypeGuard[str]:
    return value is not None and 20 <= len(value) <= 100 and set(value) <= _TOKEN_CHARS


def _secure(scope: Scope) -> bool:
    services = scope["app"].state.services
    return services.settings.public_url.startswith("https://")


def cookie_header(name: str, value: str, *, max_age: int, secure: bool) -> tuple[bytes, bytes]:
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return b"set-cookie", "; ".join(parts).encode()


class Visitors:
    """ASGI middleware: reads the cookies into request.state, sets a new CSRF cookie when a
    page asked for a token, and drops a session cookie that no longer signs anyone in."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        state = scope.setdefault("state", {})
        state["user"] = None
        csrf = cookies.get(CSRF_COOKIE)
        state["csrf_cookie"] = csrf if _looks_like_token(csrf) else None
        session = cookies.get(SESSION_COOKIE)
        stale_session = False
        if _looks_like_token(session):
            services = scope["app"].state.services
            state["session"] = session
            try:
                state["user"] = await run_in_threadpool(
                    session_user, services.engine, session, services.clock()
                )
                stale_session = state["user"] is None
            except SQLAlchemyError as exc:  # the page still renders, signed out for now
                log.warning("session lookup failed error=%s", exc)
        elif session is not None:
            stale_session = True

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if state.get("csrf_new"):
                    year = 86400 * 365
                    secure = _secure(scope)
                    headers.append(
                        cookie_header(CSRF_COOKIE, state["csrf_new"], max_age=year, secure=secure)
                    )
                if stale_session and not state.get("session_set"):
                    headers.append(cookie_header(SESSION_COOKIE, "", max_age=0, secure=False))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookies)


def csrf_token(request: Request) -> str:
    """The token forms carry; made (and set as a cookie) the first time a page needs one."""
    state = request.scope.setdefault("state", {})
    token = state.get("csrf_cookie") or state.get("csrf_new")
    if not token:
        token = state["csrf_new"] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, form: FormData | Mapping[str, str] | None = None) -> None:
    """Refuse a state-changing request that does not echo the CSRF cookie, or that a browser
    says comes from another origin."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        expected = f"{request.url.scheme}://{request.headers.get('host', '')}"
        public = request.app.state.services.settings.public_url.rstrip("/")
        if origin not in (expected, public):
            raise Forbidden("this form was sent from another site")
    cookie = request.scope.get("state", {}).get("csrf_cookie")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and form is not None:
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise Forbidden(
            "the form's security token is missing or out of date; reload the page and try again"
        )


def current_user(request: Request) -> dict | None:
    return request.scope.get("state", {}).get("user")


def require_user(request: Request) -> dict:
    user = current_user(request)
    if user is None:
        raise NotSignedIn("sign in first")
    return user


def start_session_cookie(request: Request, response: Response, secret: str) -> None:
    request.scope.setdefault("state", {})["session_set"] = True
    name, value = cookie_header(
        SESSION_COOKIE,
        secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        secure=_secure(request.scope),
    )
    response.raw_headers.append((name, value))


def end_session_cookie(request: Request, response: Response) -> None:
    request.scope.setdefault("state", {})["session_set"] = True
    response.raw_headers.append(cookie_header(SESSION_COOKIE, "", max_age=0, secure=False))
