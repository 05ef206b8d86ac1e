"""Request bodies over a size limit are refused before anything reads them.

A declared Content-Length over the limit is answered 413 at once, before a byte of the body is
read; a body that arrives bigger than it said (or with no length, chunked) is cut off as soon as
it passes the limit, while streaming. Only /library/import takes files; every other route takes
small forms or nothing.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperfeed.accounts.transfer import MAX_IMPORT_BYTES
from paperfeed.errors import TooLarge
from paperfeed.web.errors import error_response

FORM_BYTES = 256 * 2**10  # 20 fields of at most 4 KiB each, with room for encoding
MULTIPART_OVERHEAD = 64 * 2**10
UPLOAD_BYTES = {"/library/import": MAX_IMPORT_BYTES + MULTIPART_OVERHEAD}


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = UPLOAD_BYTES.get(scope["path"], FORM_BYTES)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            problem = _declared_problem(declared, limit)
            if problem:
                status = 413 if "larger" in problem else 400
                response = error_response(Request(scope), status, problem)
                response.headers["connection"] = "close"
                await response(scope, receive, send)
                return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise TooLarge(_too_large(limit))
            return message

        await self.app(scope, counted, send)


def _declared_problem(declared: bytes, limit: int) -> str | None:
    if not declared.isdigit() or len(declared) > 18:
        return "Content-Length must be a whole number of bytes"
    return _too_large(limit) if int(declared) > limit else None


def _too_large(limit: int) -> str:
    size = f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit // 2**10} KiB"
    return f"the request body is larger than this page accepts ({size})"
