"""Upvote and save (forms and API), the /library pages, collections, export and import.

Forms answer with a 303 back to where the person was, so everything works without
JavaScript; the API answers JSON. Both need a signed-in person and the CSRF token.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from paperfeed.accounts import library, transfer
from paperfeed.errors import InvalidInput, NotSignedIn
from paperfeed.web import params
from paperfeed.web.account import MAX_FORM_FIELD, local_path
from paperfeed.web.session import check_csrf, current_user, require_user
from paperfeed.web.templates import render


async def marks_for(request: Request, papers: list[dict]) -> dict[str, dict]:
    """Local upvote/save counts and this person's own marks, for the cards on a page."""
    user = current_user(request)
    ids = [p["id"] for p in papers if isinstance(p, dict) and "id" in p]
    return await run_in_threadpool(
        library.engagement, params.services(request).engine, ids, user["id"] if user else None
    )


def _sign_in_redirect(back: str) -> RedirectResponse:
    return RedirectResponse("/sign-in?" + urlencode({"next": back}), 303)


async def upvote_form(request: Request) -> Response:
    return await _mark_form(request, "upvote")


async def save_form(request: Request) -> Response:
    return await _mark_form(request, "save")


async def upvote_api(request: Request) -> JSONResponse:
    return await _mark_api(request, "upvote")


async def save_api(request: Request) -> JSONResponse:
    return await _mark_api(request, "save")


async def _mark_form(request: Request, kind: str) -> Response:
    """POST /papers/{id}/upvote or /save with on=1|0: do it, then go back."""
    paper_id = request.path_params["paper_id"]
    async with request.form(max_files=0, max_fields=10, max_part_size=MAX_FORM_FIELD) as form:
        check_csrf(request, form)
        back = local_path(form.get("next"), f"/papers/{paper_id}")
        on = form.get("on", "1") != "0"
    user = current_user(request)
    if user is None:
        return _sign_in_redirect(back)
    services = params.services(request)
    await run_in_threadpool(
        library.set_mark, services.engine, kind, user["id"], paper_id, on, services.clock()
    )
    return RedirectResponse(back, 303)


async def _mark_api(request: Request, kind: str) -> JSONResponse:
    """POST (do) or DELETE (undo) /api/papers/{id}/upvote|save: the paper's new state."""
    user = require_user(request)
    check_csrf(request)
    services = params.services(request)
    state = await run_in_threadpool(
        library.set_mark,
        services.engine,
        kind,
        user["id"],
        request.path_params["paper_id"],
        request.method == "POST",
        services.clock(),
    )
    return JSONResponse({"id": request.path_params["paper_id"], **state})


def _user_or_redirect(request: Request) -> dict | RedirectResponse:
    user = current_user(request)
    return user if user else _sign_in_redirect(request.url.path)


async def library_page(request: Request) -> Response:
    user = _user_or_redirect(request)
    if isinstance(user, Response):
        return user
    shelf = await run_in_threadpool(library.library, params.services(request).engine, user)
    marks = await marks_for(request, shelf["saved"])
    return HTMLResponse(render("library.html", request=request, shelf=shelf, marks=marks))


async def library_json(request: Request) -> JSONResponse:
    user = require_user(request)
    return JSONResponse(
        await run_in_threadpool(library.library, params.services(request).engine, user)
    )


async def create_collection(request: Request) -> Response:
    async with request.form(max_files=0, max_fields=10, max_part_size=MAX_FORM_FIELD) as form:
        check_csrf(request, form)
        name, paper_id = form.get("name"), form.get("paper_id")
        back = local_path(form.get("next"), "/library")
    user = require_user(request)
    services = params.services(request)
    collection_id = await run_in_threadpool(
        library.create_collection,
        services.engine,
        user["id"],
        name if isinstance(name, str) else None,
        services.clock(),
    )
    if isinstance(paper_id, str) and paper_id:
        await run_in_threadpool(
            library.file_paper,
            services.engine,
            user["id"],
            collection_id,
            paper_id,
            True,
            services.clock(),
        )
    return RedirectResponse(back, 303)


async def collection_page(request: Request) -> Response:
    user = _user_or_redirect(request)
    if isinstance(user, Response):
        return user
    found = await run_in_threadpool(
        library.collection, params.services(request).engine, user["id"], request.path_params["cid"]
    )
    marks = await marks_for(request, found["papers"])
    return HTMLResponse(render("collection.html", request=request, collection=found, marks=marks))


async def collection_json(request: Request) -> JSONResponse:
    user = require_user(request)
    found = await run_in_threadpool(
        library.collection, params.services(request).engine, user["id"], request.path_params["cid"]
    )
    return JSONResponse(found)


async def delete_collection(request: Request) -> Response:
    async with request.form(max_files=0, max_fields=10, max_part_size=MAX_FORM_FIELD) as form:
        check_csrf(request, form)
    user = require_user(request)
    await run_in_threadpool(
        library.delete_collection,
        params.services(request).engine,
        user["id"],
        request.path_params["cid"],
    )
    return RedirectResponse("/library", 303)


async def file_paper(request: Request) -> Response:
    """POST /library/file with collection, paper_id and on=1|0: file a paper or take it out."""
    async with request.form(max_files=0, max_fields=10, max_part_size=MAX_FORM_FIELD) as form:
        check_csrf(request, form)
        paper_id, on = form.get("paper_id"), form.get("on", "1") != "0"
        raw_collection = form.get("collection")
        back = local_path(form.get("next"), "/library")
    user = require_user(request)
    if not isinstance(paper_id, str) or not paper_id.strip():
        raise InvalidInput("say which paper (paper_id)")
    try:
        collection_id = int(raw_collection) if isinstance(raw_collection, str) else None
    except ValueError:
        collection_id = None
    if collection_id is None:
        raise InvalidInput("say which collection (collection)")
    services = params.services(request)
    await run_in_threadpool(
        library.file_paper,
        services.engine,
        user["id"],
        collection_id,
        paper_id,
        on,
        services.clock(),
    )
    return RedirectResponse(back, 303)


async def export_json(request: Request) -> JSONResponse:
    user = require_user(request)
    services = params.services(request)
    data = await run_in_threadpool(transfer.export_json, services.engine, user, services.clock())
    return JSONResponse(
        data, headers={"content-disposition": 'attachment; filename="paperfeed-library.json"'}
    )


async def export_bibtex(request: Request) -> Response:
    user = require_user(request)
    text = await run_in_threadpool(transfer.export_bibtex, params.services(request).engine, user)
    return Response(
        text,
        media_type="application/x-bibtex; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="paperfeed-library.bib"'},
    )


async def import_file(request: Request) -> Response:
    """POST /library/import: a JSON export or a .bib file, as the form's `file`."""
    user = current_user(request)
    async with request.form(max_files=1, max_fields=10, max_part_size=MAX_FORM_FIELD) as form:
        check_csrf(request, form)
        if user is None:
            raise NotSignedIn("sign in first")
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("choose a file to import (a paperfeed JSON export or a .bib file)")
        data = await upload.read(transfer.MAX_IMPORT_BYTES + 1)
    services = params.services(request)
    report = await run_in_threadpool(
        transfer.import_library, services.engine, user, data, services.clock()
    )
    shelf = await run_in_threadpool(library.library, services.engine, user)
    marks = await marks_for(request, shelf["saved"])
    html = render("library.html", request=request, shelf=shelf, marks=marks, report=report)
    return HTMLResponse(html)
