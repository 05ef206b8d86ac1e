"""Sign-in pages: ask for an email link, land on it, confirm with a button, sign out.

Landing on the link only shows a button: mail scanners open links, and a single-use link
consumed by a scanner would never sign its owner in. The confirming POST does.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from paperfeed.accounts import signin
from paperfeed.errors import InvalidInput
from paperfeed.mail.outbox import Mailer
from paperfeed.web.session import (
    check_csrf,
    current_user,
    end_session_cookie,
    start_session_cookie,
)
from paperfeed.web.templates import render

MAX_FORM_FIELD = 4096


def local_path(raw: object, default: str = "/library") -> str:
    """A redirect target on this site only: a path, never //host or a scheme."""
    if not isinstance(raw, str) or not raw.startswith("/") or raw.startswith("//"):
        return default
    if "\\" in raw or any(ord(c) < 32 for c in raw) or len(raw) > 2000:
        return default
    return raw


def mailer(request: Request) -> Mailer:
    """How mail a visitor asks for is written; it leaves after the answer (web/mail_queue.py)."""
    settings = request.app.state.services.settings
    return Mailer(
        sender=settings.mail_from,
        public_url=settings.public_url,
        hourly_limits=((timedelta(hours=1), settings.mail_hourly_limit),),
    )


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def sign_in_page(request: Request) -> HTMLResponse:
    next_path = local_path(request.query_params.get("next"))
    return HTMLResponse(render("sign_in.html", request=request, next_path=next_path))


async def request_link(request: Request) -> HTMLResponse:
    async with request.form(max_files=0, max_fields=10, max_part_size=MAX_FORM_FIELD) as form:
        check_csrf(request, form)
        email, next_path = form.get("email"), local_path(form.get("next"))
    services = request.app.state.services
    try:
        await run_in_threadpool(
            signin.request_link,
            services.engine,
            mailer(request),
            email if isinstance(email, str) else None,
            client=_client(request),
            now=services.clock(),
            next_path=next_path,
        )
    except InvalidInput as exc:
        html = render(
            "sign_in.html", request=request, next_path=next_path, problem=str(exc), email=email
        )
        return HTMLResponse(html, 400)
    # The same page for every valid address: it says nothing about whether one has an account.
    return HTMLResponse(
        render("sign_in_sent.html", request=request, email=email),
        background=request.app.state.mail_queue.after_response(),
    )


async def confirm_page(request: Request) -> HTMLResponse:
    token = request.query_params.get("token", "")[:200]
    services = request.app.state.services
    state = await run_in_threadpool(signin.link_state, services.engine, token, services.clock())
    html = render(
        "sign_in_confirm.html",
        request=request,
        token=token,
        problem=signin.LINK_PROBLEMS.get(state),
        next_path=local_path(request.query_params.get("next")),
    )
    return HTMLResponse(html, 200 if state == "valid" else 400)


async def confirm(request: Request) -> Response:
    async with request.form(max_files=0, max_fields=10, max_part_size=MAX_FORM_FIELD) as form:
        check_csrf(request, form)
        token, next_path = form.get("token"), local_path(form.get("next"))
    services = request.app.state.services
    try:
        secret, _ = await run_in_threadpool(
            signin.confirm_link,
            services.engine,
            token if isinstance(token, str) else "",
            services.clock(),
        )
    except InvalidInput as exc:
        html = render("sign_in.html", request=request, next_path=next_path, problem=str(exc))
        return HTMLResponse(html, 400)
    response = RedirectResponse(next_path, 303)
    start_session_cookie(request, response, secret)
    return response


async def sign_out(request: Request) -> Response:
    async with request.form(max_files=0, max_fields=10, max_part_size=MAX_FORM_FIELD) as form:
        check_csrf(request, form)
    session = request.scope.get("state", {}).get("session")
    if session and current_user(request):
        await run_in_threadpool(signin.sign_out, request.app.state.services.engine, session)
    response = RedirectResponse("/", 303)
    end_session_cookie(request, response)
    return response
