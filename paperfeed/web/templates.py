"""Jinja2 templates from web/templates/, autoescaped: paper text is always treated as hostile."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request

from paperfeed.web.static import static_url

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def highlight(snippet: dict) -> Markup:
    """A search snippet with its highlighted ranges in <mark>; the text itself is escaped."""
    text, parts, last = snippet.get("text", ""), [], 0
    for start, end in snippet.get("highlights", []):
        if start < last or end > len(text):
            continue
        parts.append(escape(text[last:start]))
        parts.append(Markup("<mark>%s</mark>") % text[start:end])
        last = end
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def _csrf_token(request: Request) -> str:
    from paperfeed.web.session import csrf_token  # the session module renders nothing itself

    return csrf_token(request)


_ENV.filters["highlight"] = highlight
_ENV.globals["csrf_token"] = _csrf_token
_ENV.globals["static_url"] = static_url
_ENV.globals["here"] = lambda request: (
    request.url.path + ("?" + request.url.query if request.url.query else "")
)


def render(name: str, **context: object) -> str:
    return _ENV.get_template(name).render(**context)
