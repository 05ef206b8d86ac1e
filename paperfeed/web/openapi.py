"""The JSON API as an OpenAPI 3.1 document (web/api_docs.py serves it and renders its page).

The document is written here, next to the handlers it describes, and tests/web/test_openapi.py
keeps it honest: every /api/ route must be in it, and a fuzzer checks the real server against it
(statuses, bounds, response shapes). It imports no handler module: every number parameter is
generated from its declaration in web/params.py, which the handler reads it with, and other
limits come from the domain constants the handlers use too.

Adding an endpoint is one entry in OPERATIONS (plus a schema in SCHEMAS for a new shape):

    ("get", "/api/papers/{paper_id}/citations"): {
        "operationId": "citations_api",
        "summary": "Papers that cite this one",
        "tags": ["papers"],
        "parameters": [PAPER_ID, _number(params.CITATIONS_LIMIT)],  # declared in params.py
        "responses": _responses("PapersPage", 400, 404),
    },

A signed-in write adds "security": SIGNED_IN and the CSRF_TOKEN parameter, as
_mark_operation does for upvote and save.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from paperfeed import __version__
from paperfeed.search.service import MAX_SEEDS, MODES, SORTS
from paperfeed.trending.score import WINDOWS
from paperfeed.web import params
from paperfeed.web.session import CSRF_HEADER, SESSION_COOKIE

# --- building blocks ----------------------------------------------------------------------


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _or_null(schema: dict) -> dict:
    kind = schema.get("type", "string")
    return {**schema, "type": [kind, "null"]}


def _number(param: params.IntParam) -> dict:
    """A bounded number parameter, from the declaration its handler reads it with."""
    return _query(param.name, param.schema(), param.help)


def _enum(values: tuple[str, ...] | list[str], default: str) -> dict:
    return {"type": "string", "enum": list(values), "default": default}


def _list(items: dict) -> dict:
    return {"type": "array", "items": items}


def _object(properties: dict, *, optional: tuple[str, ...] = (), description: str = "") -> dict:
    """A closed object: every property listed is required unless named in `optional`."""
    schema = {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }
    return schema | {"description": description} if description else schema


def _query(name: str, schema: dict, description: str, *, empty_ok: bool = True) -> dict:
    """A query parameter; `empty_ok`: name= with nothing after it means "not given" (as forms
    send empty fields)."""
    parameter: dict[str, Any] = {
        "name": name,
        "in": "query",
        "schema": schema,
        "description": description,
    }
    if empty_ok and not (schema.get("type") == "array" or schema == STRING):
        parameter["allowEmptyValue"] = True
    if schema.get("type") == "array":
        parameter |= {"style": "form", "explode": True}
    return parameter


def _path(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


def _responses(
    ok: str, *errors: int, media_type: str = "application/json", reads_data: bool = True
) -> dict:
    """200 with the named schema (or a bare string for HTML), each error status given, and
    503 when the answer reads the database or an index."""
    schema = _ref(ok) if media_type == "application/json" else {"type": "string"}
    responses = {"200": {"description": "Success.", "content": {media_type: {"schema": schema}}}}
    for status in (*errors, 503) if reads_data else errors:
        responses[str(status)] = {"$ref": f"#/components/responses/{ERRORS[status][0]}"}
    return responses


ERRORS = {
    400: ("BadRequest", "A parameter is out of range or malformed; the error says which."),
    401: ("NotSignedIn", "This needs a signed-in session cookie."),
    403: ("Forbidden", "The X-CSRF-Token header is missing or does not match the cookie."),
    404: ("NotFound", "No such paper (or no such path)."),
    429: ("TooManyRequests", "Too many requests from this address or account; wait a while."),
    503: ("Unavailable", "The database or a search index is unavailable right now."),
}
STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
DAY = {"type": "string", "format": "date"}
DATE_TIME = {"type": "string", "format": "date-time"}
STRINGS = _list(STRING)
# Categories are arXiv-like names; the handlers strip surrounding spaces first.
CATEGORY = {
    "type": "string",
    "pattern": r"^\s*([A-Za-z][A-Za-z0-9.\-]{0,63})?\s*$",
    "examples": ["cs.CL"],
}
YEAR = r"(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
SIGNED_IN: list[dict[str, list[str]]] = [{"cookieAuth": []}]
PAPER_ID = _path(
    "paper_id",
    STRING,
    "An arXiv id in any form (2104.12255, 2104.12255v1, hep-th/9901001) or a local: id.",
)
CSRF_TOKEN = {"$ref": "#/components/parameters/CsrfToken"}
TRENDING_PARAMETERS = [
    _query("window", _enum(tuple(WINDOWS), "day"), "How far back engagement counts."),
    _query(
        "date",
        DAY | {"not": {"pattern": "^0001-01-"}},  # a window reaches 30 days back
        "A past day (YYYY-MM-DD, from 0001-02-01): that day's frozen list. Today: the live "
        "list; after today: 400.",
    ),
    _number(params.TRENDING_LIMIT),
]
SEARCH_PARAMETERS = [
    _query(
        "q",
        STRING,
        'The query: words, "a phrase", prefix*, -exclude, '
        "author:name, category:cs.CL (the first 10,000 characters count). Empty with no "
        "category: no results.",
    ),
    _query("mode", _enum(MODES, "hybrid"), "hybrid (keywords and meaning), keyword or semantic."),
    _query("sort", _enum(SORTS, "relevance"), "relevance, or date (newest first)."),
    _query(
        "category", STRINGS, "Repeatable, or several separated by spaces or commas (20 at most)."
    ),
    _query("since", DAY, "First day included (YYYY-MM-DD); must be before until (400)."),
    _query("until", DAY, "Last day included (YYYY-MM-DD)."),
    _number(params.SEARCH_PAGE),
    _number(params.SEARCH_LIMIT),
]

# --- the operations ---------------------------------------------------------------------------

OPERATIONS: dict[tuple[str, str], dict] = {
    ("get", "/api/papers"): {
        "operationId": "papers_api",
        "summary": "Papers, newest first, a page at a time",
        "tags": ["papers"],
        "parameters": [
            _number(params.PAPERS_LIMIT),
            _number(params.PAPERS_OFFSET),
        ],
        "responses": _responses("PapersPage", 400),
    },
    ("get", "/api/papers/{paper_id}"): {
        "operationId": "paper_api",
        "summary": "One paper",
        "tags": ["papers"],
        "parameters": [PAPER_ID],
        "responses": _responses("Paper", 404),
    },
    ("get", "/api/search"): {
        "operationId": "search_api",
        "summary": "Search papers by keywords, meaning, or both",
        "description": "Each result says why it ranked and carries a highlighted snippet.",
        "tags": ["search"],
        "parameters": SEARCH_PARAMETERS,
        "responses": _responses("SearchResults", 400),
    },
    ("get", "/api/similar"): {
        "operationId": "similar_api",
        "summary": "Papers like one paper, a reading list, or a pasted text",
        "description": "Give id (repeatable) or text, not both and not neither (400). An id "
        "not stored here is 404. The seeds themselves are never in the results.",
        "tags": ["search"],
        "parameters": [
            _query("id", STRINGS | {"maxItems": MAX_SEEDS}, "A paper id; repeat for a list."),
            _query("text", STRING, "A text, such as an abstract draft."),
            _number(params.SIMILAR_LIMIT),
        ],
        "responses": _responses("SimilarResults", 400, 404),
    },
    ("get", "/api/trending"): {
        "operationId": "trending_api",
        "summary": "Trending papers, each with why it is there",
        "tags": ["trending"],
        "parameters": [
            _query("category", CATEGORY, "Only this category (cs.CL)."),
            *TRENDING_PARAMETERS,
        ],
        "responses": _responses("TrendingList", 400),
    },
    ("get", "/api/categories"): {
        "operationId": "categories_api",
        "summary": "Every category with its number of papers",
        "tags": ["papers"],
        "responses": _responses("Categories"),
    },
    ("get", "/api/daily_papers"): {
        "operationId": "hf_daily_papers",
        "summary": "Hugging Face's daily-papers API, served from paperfeed's trending",
        "description": "Give at most one of date, week and month (400); none: today. A period "
        "more than 31 days ahead is 400. paperfeed has no submitters, so submitter matches "
        "nothing.",
        "tags": ["hugging face"],
        "parameters": [
            _query("date", DAY, "A day, YYYY-MM-DD."),
            _query(
                "week",
                {
                    "type": "string",
                    "pattern": f"^{YEAR}-W(0[1-9]|[1-4][0-9]|5[0-3])$",
                    "examples": ["2025-W09"],
                },
                "An ISO week, YYYY-Www (W53 only in years that have one).",
            ),
            _query(
                "month",
                {"type": "string", "pattern": f"^{YEAR}-(0[1-9]|1[0-2])$", "examples": ["2025-03"]},
                "YYYY-MM.",
            ),
            _query("sort", _enum(("publishedAt", "trending"), "publishedAt"), "Order."),
            _number(params.HF_LIMIT),
            _number(params.HF_PAGE),
            _query("submitter", STRING, "Hugging Face user name."),
        ],
        "responses": _responses("DailyPapers", 400),
    },
    ("get", "/api/stats"): {
        "operationId": "stats_api",
        "summary": "Counts: papers, signals, papers per source, recent ingest runs",
        "tags": ["papers"],
        "responses": _responses("Stats"),
    },
    ("get", "/api/openapi.json"): {
        "operationId": "openapi_json",
        "summary": "This document",
        "tags": ["about"],
        "responses": _responses("OpenAPI", reads_data=False),
    },
    ("get", "/api/docs"): {
        "operationId": "api_docs",
        "summary": "This document as a web page",
        "tags": ["about"],
        "responses": _responses("docs page", media_type="text/html", reads_data=False),
    },
    # JSON twins of the HTML pages: the same handlers and dicts as the API routes above.
    ("get", "/trending.json"): {
        "operationId": "trending_json",
        "summary": "The home page's trending list (the same as /api/trending)",
        "tags": ["trending"],
        "parameters": [
            _query("category", CATEGORY, "Only this category (cs.CL)."),
            *TRENDING_PARAMETERS,
        ],
        "responses": _responses("TrendingList", 400),
    },
    ("get", "/categories/{category}.json"): {
        "operationId": "category_json",
        "summary": "Trending in one category",
        "tags": ["trending"],
        "parameters": [
            _path("category", {**CATEGORY, "pattern": r"^[A-Za-z][A-Za-z0-9.\-]{0,63}$"}, "cs.CL"),
            *TRENDING_PARAMETERS,
        ],
        "responses": _responses("TrendingList", 400, 404),
    },
    ("get", "/new.json"): {
        "operationId": "new_json",
        "summary": "The newest papers, 50 a page",
        "tags": ["papers"],
        "parameters": [
            _query("category", CATEGORY, "Only this category (cs.CL)."),
            _number(params.NEW_PAGE),
        ],
        "responses": _responses("NewPapers", 400),
    },
    ("get", "/categories.json"): {
        "operationId": "categories_json",
        "summary": "Every category (the same as /api/categories)",
        "tags": ["papers"],
        "responses": _responses("Categories"),
    },
    ("get", "/search.json"): {
        "operationId": "search_json",
        "summary": "The search page's results (the same as /api/search)",
        "tags": ["search"],
        "parameters": SEARCH_PARAMETERS,
        "responses": _responses("SearchResults", 400),
    },
    ("get", "/papers/{paper_id}.json"): {
        "operationId": "paper_json",
        "summary": "One paper (the same as /api/papers/{paper_id})",
        "tags": ["papers"],
        "parameters": [PAPER_ID],
        "responses": _responses("Paper", 404),
    },
}


def _mark_operation(kind: str, method: str, summary: str) -> dict:
    """A signed-in write: the session cookie, and the X-CSRF-Token header (the CSRF cookie)."""
    return {
        "operationId": f"paper_{kind}_{method}",
        "summary": summary,
        "description": "Answers the paper's new local counts and this person's marks.",
        "tags": ["library"],
        "security": SIGNED_IN,
        "parameters": [PAPER_ID, CSRF_TOKEN],
        "responses": _responses("Marks", 400, 401, 403, 404, 429),
    }


OPERATIONS |= {
    ("post", "/api/papers/{paper_id}/upvote"): _mark_operation("upvote", "post", "Upvote a paper"),
    ("delete", "/api/papers/{paper_id}/upvote"): _mark_operation(
        "upvote", "delete", "Take an upvote back"
    ),
    ("post", "/api/papers/{paper_id}/save"): _mark_operation("save", "post", "Save a paper"),
    ("delete", "/api/papers/{paper_id}/save"): _mark_operation(
        "save", "delete", "Take a paper out of the library"
    ),
}

# --- the shared schemas -------------------------------------------------------------------

_LINKS = {"abstract": _or_null({}), "pdf": _or_null({}), "code": _or_null({})}
_TREND = _object(
    {
        "rank": {"type": "integer", "minimum": 1},
        "score": NUMBER,
        "parts": _list(
            _object(
                {
                    "source": STRING,
                    "kind": STRING,
                    "gained": NUMBER,
                    "points": NUMBER,
                }
            )
        ),
        "why": STRINGS,
    },
    description="Why the paper trends: its score and the signals that made it.",
)


def _result(why: dict, description: str) -> dict:
    return _object(
        {
            "id": STRING,
            "title": STRING,
            "authors": STRINGS,
            "categories": STRINGS,
            "published_at": _or_null(DATE_TIME),
            "links": _object(_LINKS),
            "score": NUMBER,
            "why": why,
            "snippet": _object(
                {
                    "text": STRING,
                    "highlights": _list(
                        {
                            "type": "array",
                            "prefixItems": [INTEGER, INTEGER],
                            "minItems": 2,
                            "maxItems": 2,
                        }
                    ),
                },
                description="The best stretch of the abstract, with [start, end) of each match.",
            ),
        },
        description=description,
    )


def _results(item: str, *, optional: tuple[str, ...] = ()) -> dict:
    return _object(
        {
            "query": STRING,
            "mode": {"type": "string", "enum": list(MODES), "description": "What ran."},
            "notices": STRINGS,
            "took_ms": {"type": "number", "minimum": 0},
            "results": _list(_ref(item)),
            "page": {"type": "integer", "minimum": 1},
            "limit": {"type": "integer", "minimum": 1},
        },
        optional=("page", "limit", *optional),
    )


SCHEMAS = {
    "Error": _object(
        {
            "ok": {"const": False},
            "error": {"type": "string", "description": "What went wrong, safe to show."},
            "status": {"type": "integer", "description": "The HTTP status again."},
        },
        description="The one error shape of every /api/ route and .json twin.",
    ),
    "Paper": _object(
        {
            "id": {"type": "string", "description": "arXiv id without version, or local:…"},
            "arxiv_id": _or_null({}),
            "version": _or_null(INTEGER),
            "title": STRING,
            "abstract": STRING,
            "authors": STRINGS,
            "categories": STRINGS,
            "primary_category": _or_null({}),
            "versions": _list(_object({"version": INTEGER, "submitted_at": _or_null(DATE_TIME)})),
            "published_at": _or_null(DATE_TIME),
            "updated_at": _or_null(DATE_TIME),
            "comment": _or_null({}),
            "journal_ref": _or_null({}),
            "doi": _or_null({}),
            "links": _object(_LINKS | {"project": _or_null({})}),
            "sources": STRINGS,
            "signals": {
                "type": "object",
                "additionalProperties": NUMBER,
                "description": "The newest reading of each kind: upvotes, comments, github_stars…",
            },
            "first_seen_at": DATE_TIME,
            "last_changed_at": DATE_TIME,
            "trending": _TREND,
        },
        optional=("trending",),
        description="A paper; trending only in trending lists ranked by engagement.",
    ),
    "PapersPage": _object(
        {
            "papers": _list(_ref("Paper")),
            "limit": INTEGER,
            "offset": INTEGER,
        }
    ),
    "NewPapers": _object(
        {"category": _or_null({}), "page": INTEGER, "papers": _list(_ref("Paper"))}
    ),
    "TrendingList": _object(
        {
            "window": {"type": "string", "enum": list(WINDOWS)},
            "category": _or_null({}),
            "day": _or_null(DAY | {"description": "Set for a past day's frozen list."}),
            "as_of": DATE_TIME | {"description": "The instant the list was computed for."},
            "basis": {"type": "string", "enum": ["engagement", "newest"]},
            "note": _or_null({"description": "Why the list is not plain engagement, if so."}),
            "half_life_hours": NUMBER,
            "papers": _list(_ref("Paper")),
        }
    ),
    "SearchResult": _result(
        _object(
            {
                "keyword_rank": _or_null(INTEGER),
                "semantic_rank": _or_null(INTEGER),
                "pinned": _or_null({"enum": ["arXiv id", "exact title", None]}),
            }
        ),
        "A search hit; why gives its rank in each list (null: not in its first 100).",
    ),
    "SearchResults": _results("SearchResult"),
    "SimilarResult": _result(
        _object(
            {"near": {"type": "object", "additionalProperties": INTEGER}},
            description="Which seeds the paper is near, and its rank for each.",
        ),
        "A similar paper.",
    ),
    "SimilarResults": _results("SimilarResult"),
    "Categories": _object({"categories": _list(_object({"category": STRING, "papers": INTEGER}))}),
    "DailyPapers": _list(_ref("DailyPaper")),
    "DailyPaper": {
        "type": "object",
        "description": "An entry in Hugging Face's shape, less what paperfeed cannot know.",
        "required": ["paper", "publishedAt", "title", "summary", "numComments"],
        "properties": {
            "paper": {
                "type": "object",
                "required": ["id", "authors", "publishedAt", "title", "summary", "upvotes"],
                "properties": {
                    "id": STRING,
                    "authors": _list(
                        {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": STRING,
                                "hidden": BOOLEAN,
                            },
                        }
                    ),
                    "publishedAt": _or_null(DATE_TIME),
                    "title": STRING,
                    "summary": STRING,
                    "upvotes": INTEGER,
                    "githubRepo": STRING,
                    "githubStars": INTEGER,
                    "projectPage": STRING,
                },
            },
            "publishedAt": _or_null(DATE_TIME),
            "title": STRING,
            "summary": STRING,
            "numComments": INTEGER,
            "isAuthorParticipating": BOOLEAN,
        },
    },
    "Stats": _object(
        {
            "papers": INTEGER,
            "signals": INTEGER,
            "papers_by_source": {"type": "object", "additionalProperties": INTEGER},
            "newest_published_at": _or_null(DATE_TIME),
            "recent_runs": _list(
                _object(
                    {
                        "id": INTEGER,
                        "source": STRING,
                        "status": STRING,
                        "started_at": DATE_TIME,
                        "new": INTEGER,
                        "updated": INTEGER,
                        "failed": INTEGER,
                    }
                )
            ),
        }
    ),
    "Marks": _object(
        {
            "id": STRING,
            "upvotes": INTEGER,
            "saves": INTEGER,
            "upvoted": BOOLEAN,
            "saved": BOOLEAN,
        },
        description="A paper's local upvote and save counts, and this person's own marks.",
    ),
    "OpenAPI": {"type": "object", "required": ["openapi", "info", "paths"]},
}


@cache
def openapi_document() -> dict:
    """The whole document; built once, never changed (callers must not mutate it)."""
    paths: dict[str, dict] = {}
    for (method, path), operation in OPERATIONS.items():
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "paperfeed",
            "version": __version__,
            "description": "Research papers: the newest, trending, searched and similar. Every "
            "error has one shape, the Error schema.",
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "responses": {
                name: {
                    "description": description,
                    "content": {"application/json": {"schema": _ref("Error")}},
                }
                for name, description in ERRORS.values()
            },
            "parameters": {
                "CsrfToken": {
                    "name": CSRF_HEADER.title(),
                    "in": "header",
                    "required": True,
                    "schema": STRING,
                    "description": "The value of the pf_csrf cookie, echoed back.",
                }
            },
            "securitySchemes": {
                "cookieAuth": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE,
                    "description": "The session cookie that signing in with an email link sets.",
                }
            },
        },
    }
