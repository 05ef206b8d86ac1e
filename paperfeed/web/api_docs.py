"""The OpenAPI document served: `GET /api/openapi.json`, and `GET /api/docs`, the same
document rendered as an HTML page on the server (templates/api_docs.html, no script).

The document itself is written in web/openapi.py; this module only serves and renders it.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from paperfeed.web.openapi import openapi_document
from paperfeed.web.templates import render


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


async def api_docs_page(request: Request) -> HTMLResponse:
    html = render(
        "api_docs.html",
        request=request,
        document=openapi_document(),
        describe=describe,
        resolve=resolve,
        anchor=anchor,
    )
    return HTMLResponse(html)


def anchor(method: str, path: str) -> str:
    """The page's id for one operation: get-api-papers-paper_id."""
    return method + re.sub(r"[^A-Za-z0-9_.]+", "-", path).rstrip("-")


def resolve(node: dict) -> dict:
    """A `$ref` to a shared parameter or response, replaced by what it names."""
    if "$ref" not in node:
        return node
    _, _, kind, name = node["$ref"].split("/")
    return openapi_document()["components"][kind][name]


def describe(schema: dict) -> Markup:
    """A schema in a few words, shared schemas linked: "integer, 1–100, default 20"."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return Markup('<a href="#schema-{0}">{0}</a>').format(name)
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "enum" in schema:
        choices = [Markup("<code>{}</code>").format(v) for v in schema["enum"] if v is not None]
        words = [Markup("one of ") + Markup(", ").join(choices)]
    elif "const" in schema:
        words = [Markup("<code>{}</code>").format(str(schema["const"]).lower())]
    elif "array" in kinds:
        words = [Markup("array of ") + describe(schema.get("items", {}))]
    elif "properties" in schema:
        names = [Markup("<code>{}</code>").format(name) for name in schema["properties"]]
        words = [Markup("object: ") + Markup(", ").join(names)]
    else:
        words = [escape(" or ".join(k for k in kinds if k != "null"))]
    if "format" in schema:
        words.append(escape(schema["format"]))
    if "examples" in schema:  # clearer than the pattern, which is in openapi.json
        words.append(Markup("like <code>{}</code>").format(schema["examples"][0]))
    elif "pattern" in schema:
        words.append(Markup("matching <code>{}</code>").format(schema["pattern"]))
    if "minimum" in schema and "maximum" in schema:
        words.append(escape(f"{schema['minimum']}–{schema['maximum']}"))
    elif "minimum" in schema:
        words.append(escape(f"at least {schema['minimum']}"))
    if "maxItems" in schema:
        words.append(escape(f"at most {schema['maxItems']}"))
    if "default" in schema:
        words.append(Markup("default <code>{}</code>").format(schema["default"]))
    if "null" in kinds:
        words.append(escape("or null"))
    return Markup(", ").join(words)
