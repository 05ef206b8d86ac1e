"""Static files under a content version: `/static/<version>/<path>`, cached for a year.

The version is a hash of every file under web/static/ (names and bytes), computed once per
process. A release that changes any file changes every URL, so a browser never keeps a stale
stylesheet and never revalidates a current one (KaTeX alone is 273 KB, its fonts more; relative
links inside its stylesheet stay under the same version). `/static/<path>` still answers, with
revalidation, for links from elsewhere.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
FOREVER = "public, max-age=31536000, immutable"


def content_version(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@functools.cache
def version() -> str:
    return content_version(STATIC_DIR)


def static_url(path: str) -> str:
    """The URL templates use for a file under web/static/."""
    return f"/static/{version()}/{path.lstrip('/')}"


class VersionedStaticFiles(StaticFiles):
    """Served under the current version: the bytes behind a URL never change."""

    async def get_response(self, path: str, scope: Scope):
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["cache-control"] = FOREVER
        return response
