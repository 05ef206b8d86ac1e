"""Digest subscription pages: subscribe, confirm, preferences, unsubscribe, 👍 / 👎, preview.

Links in mail only ever show a page with a button; the button's POST does the work, because
mail scanners open links. The one exception is RFC 8058's one-click unsubscribe: a mail client
POSTs to the List-Unsubscribe URL with no cookie, so that POST needs no CSRF token — it can only
unsubscribe the address the signed URL names, and doing it twice changes nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import available_timezones

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from paperfeed.digest import profile, subscriptions
from paperfeed.errors import Forbidden, InvalidInput, NotFound
from paperfeed.web import feeds, params
from paperfeed.web.account import MAX_FORM_FIELD, _client, mailer
from paperfeed.web.session import check_csrf, current_user, require_user
from paperfeed.web.templates import render

TIME_ZONES = sorted(available_timezones())
FORM_FIELDS = (
    "categories",
    "keywords",
    "authors",
    "exclude",
    "exclude_authors",
    "exclude_categories",
    "library",
    "frequency",
    "send_hour",
    "time_zone",
    "paper_count",
)


_LISTS = subscriptions.TOPIC_LISTS


def _page(request: Request, name: str, status: int = 200, **context: object) -> HTMLResponse:
    return HTMLResponse(render(name, request=request, time_zones=TIME_ZONES, **context), status)


async def _form(request: Request) -> dict:
    async with request.form(max_files=0, max_fields=20, max_part_size=MAX_FORM_FIELD) as form:
        return {key: value for key, value in form.items() if isinstance(value, str)}


def _prefs_view(form: dict) -> dict:
    """What the form shows: the values sent, or defaults."""
    defaults = subscriptions.DEFAULTS
    return {
        "email": form.get("email", ""),
        **{name: form.get(name, "") for name in _LISTS},
        "library": form.get("library") in ("1", "on", "true"),
        "frequency": form.get("frequency") or defaults["frequency"],
        "send_hour": int(form.get("send_hour") or defaults["send_hour"])
        if str(form.get("send_hour") or "").isdigit()
        else defaults["send_hour"],
        "time_zone": form.get("time_zone") or defaults["time_zone"],
        "paper_count": form.get("paper_count") or defaults["paper_count"],
    }


def _subscriber_view(subscriber: dict) -> dict:
    topics = subscriber["topics"]
    return {
        "email": subscriber["email"],
        **{name: ", ".join(topics.get(name, [])) for name in _LISTS},
        "library": bool(topics.get("library")),
        "frequency": subscriber["frequency"],
        "send_hour": subscriber["send_hour"],
        "time_zone": subscriber["time_zone"],
        "paper_count": subscriber["paper_count"],
    }


async def subscribe_page(request: Request) -> HTMLResponse:
    prefill = {"email": request.query_params.get("email", "")[:254]}
    return _page(request, "subscribe.html", prefs=_prefs_view(prefill))


async def subscribe(request: Request) -> HTMLResponse:
    form = await _form(request)
    check_csrf(request, form)
    services = params.services(request)
    user = current_user(request)
    try:
        preferences = subscriptions.preferences_from(form)
        if preferences["topics"]["library"] and not user:
            raise InvalidInput("sign in first to get papers like those in your library")
        await run_in_threadpool(
            subscriptions.subscribe,
            services.engine,
            mailer(request),
            form.get("email"),
            preferences,
            client=_client(request),
            now=services.clock(),
            user_id=user["id"] if user else None,
        )
    except InvalidInput as exc:
        return _page(request, "subscribe.html", 400, prefs=_prefs_view(form), problem=str(exc))
    page = _page(request, "subscribe_sent.html", email=form.get("email", ""))
    page.background = request.app.state.mail_queue.after_response()
    return page


async def confirm_page(request: Request) -> HTMLResponse:
    token = request.path_params["token"]
    services = params.services(request)
    try:
        found = await run_in_threadpool(
            subscriptions.check_confirm_link, services.engine, token, services.clock()
        )
    except (InvalidInput, NotFound) as exc:
        return _page(request, "subscribe_confirm.html", 400, problem=str(exc))
    return _page(request, "subscribe_confirm.html", token=token, email=found["email"])


async def confirm(request: Request) -> HTMLResponse:
    form = await _form(request)
    check_csrf(request, form)
    services = params.services(request)
    token = request.path_params["token"]
    try:
        found = await run_in_threadpool(
            subscriptions.confirm, services.engine, token, services.clock()
        )
    except (InvalidInput, NotFound) as exc:
        return _page(request, "subscribe_confirm.html", 400, problem=str(exc))
    token = await run_in_threadpool(subscriptions.manage_token, services.engine, found)
    return _page(request, "subscription.html", **await _manage_context(request, found, token))


async def _manage_context(request: Request, subscriber: dict, token: str, **extra) -> dict:
    engine = params.services(request).engine
    votes = await run_in_threadpool(profile.votes_of, engine, subscriber["id"])
    feed = await run_in_threadpool(subscriptions.feed_token, engine, subscriber)
    return {
        "subscriber": subscriber,
        "prefs": _subscriber_view(subscriber),
        "token": token,
        "can_use_library": current_user(request) is not None,
        "votes": votes,
        "feed_url": f"{str(request.base_url).rstrip('/')}/digest/feed/{feed}",
        **extra,
    }


async def preferences_page(request: Request) -> HTMLResponse:
    token = request.path_params["token"]
    services = params.services(request)
    try:
        found = await run_in_threadpool(
            subscriptions.manage, services.engine, token, services.clock()
        )
    except (InvalidInput, NotFound) as exc:
        return _page(request, "subscription.html", 400, problem=str(exc))
    return _page(request, "subscription.html", **await _manage_context(request, found, token))


async def update_preferences(request: Request) -> HTMLResponse:
    form = await _form(request)
    check_csrf(request, form)
    token = request.path_params["token"]
    services = params.services(request)
    action = form.get("action", "save")
    try:
        if action == "unsubscribe":
            found = await run_in_threadpool(
                subscriptions.unsubscribe, services.engine, token, services.clock()
            )
            note = "You are unsubscribed. No more digests will be sent."
        elif action in ("undo_vote", "reset_votes"):
            found = await run_in_threadpool(
                subscriptions.manage, services.engine, token, services.clock()
            )
            if action == "undo_vote":
                paper_id = form.get("paper_id", "")
                await run_in_threadpool(
                    profile.undo_votes, services.engine, found["id"], [paper_id]
                )
                note = "Vote taken back: your picks no longer learn from it."
            else:
                await run_in_threadpool(profile.reset_votes, services.engine, found["id"])
                note = "All your votes are forgotten: your picks start afresh."
        elif action == "resubscribe":
            found = await run_in_threadpool(
                subscriptions.resubscribe, services.engine, token, services.clock()
            )
            note = "Welcome back: digests start again with the next edition."
        else:
            preferences = subscriptions.preferences_from(form)
            found = await run_in_threadpool(
                subscriptions.update_preferences,
                services.engine,
                token,
                preferences,
                services.clock(),
            )
            note = "Saved. The next digest follows these preferences."
    except (InvalidInput, NotFound) as exc:
        found = await run_in_threadpool(
            subscriptions.manage, services.engine, token, services.clock()
        )
        context = await _manage_context(request, found, token, problem=str(exc))
        context["prefs"] = _prefs_view(form) | {"email": found["email"]}
        return _page(request, "subscription.html", 400, **context)
    return _page(
        request, "subscription.html", **await _manage_context(request, found, token, note=note)
    )


async def unsubscribe_page(request: Request) -> HTMLResponse:
    """GET of the List-Unsubscribe URL: a button, and nobody unsubscribed yet."""
    token = request.path_params["token"]
    services = params.services(request)
    try:
        found = await run_in_threadpool(
            subscriptions.manage, services.engine, token, services.clock()
        )
    except (InvalidInput, NotFound) as exc:
        return _page(request, "unsubscribe.html", 400, problem=str(exc))
    return _page(request, "unsubscribe.html", token=token, subscriber=found)


async def unsubscribe(request: Request) -> HTMLResponse:
    """RFC 8058 one-click: no cookie, no CSRF token; idempotent."""
    token = request.path_params["token"]
    services = params.services(request)
    try:
        found = await run_in_threadpool(
            subscriptions.unsubscribe, services.engine, token, services.clock()
        )
    except (InvalidInput, NotFound) as exc:
        return _page(request, "unsubscribe.html", 400, problem=str(exc))
    return _page(request, "unsubscribe.html", token=token, subscriber=found, done=True)


async def vote_page(request: Request) -> HTMLResponse:
    token = request.path_params["token"]
    services = params.services(request)
    try:
        up, paper_id = await run_in_threadpool(
            subscriptions.check_vote_link, services.engine, token, services.clock()
        )
    except (InvalidInput, NotFound) as exc:
        return _page(request, "vote.html", 400, problem=str(exc))
    return _page(request, "vote.html", token=token, up=up, paper_id=paper_id)


async def vote(request: Request) -> HTMLResponse:
    form = await _form(request)
    check_csrf(request, form)
    services = params.services(request)
    try:
        subscriber, paper_id, value = await run_in_threadpool(
            subscriptions.record_vote,
            services.engine,
            request.path_params["token"],
            services.clock(),
        )
    except (InvalidInput, NotFound) as exc:
        return _page(request, "vote.html", 400, problem=str(exc))
    manage = await run_in_threadpool(subscriptions.manage_token, services.engine, subscriber)
    return _page(
        request, "vote.html", done=True, up=value > 0, paper_id=paper_id, manage_token=manage
    )


async def digest_feed(request: Request) -> Response:
    """GET /digest/feed/TOKEN: the papers of a subscriber's digests as Atom, mutes applied."""
    services = params.services(request)
    try:
        subscriber, papers = await run_in_threadpool(
            profile.digest_feed, services.engine, request.path_params["token"], services.clock()
        )
    except (InvalidInput, NotFound) as exc:
        return Response(str(exc), status_code=400, media_type="text/plain; charset=utf-8")
    title = f"paperfeed digest for {subscriber['email']}"
    return feeds.feed_response(request, "atom", title, "/", papers, private=True)


async def preview_page(request: Request) -> Response:
    """An admin's view of any subscriber's digest: GET /admin/digest?email=…&date=…"""
    user = require_user(request)
    services = params.services(request)
    admins = {a.strip().lower() for a in services.settings.admin_emails.split(",") if a.strip()}
    if user["email"] not in admins:
        raise Forbidden("only admins can preview other people's digests")
    email = request.query_params.get("email", "")
    raw_day = request.query_params.get("date")
    try:
        day = date.fromisoformat(raw_day) if raw_day else None
    except ValueError:
        raise InvalidInput("date must be a day written YYYY-MM-DD") from None
    day = day or (services.clock() - timedelta(days=1)).date()
    from paperfeed.digest.send import preview

    _, message = await run_in_threadpool(
        preview, services.engine, services.digest_sender(), email, day
    )
    html = message.get_body(("html",)).get_content()
    # Mail HTML carries its styles inline; this one page may use them, and nothing else.
    policy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    return HTMLResponse(html, headers={"content-security-policy": policy})
