"""The JSON API's OpenAPI document: valid OpenAPI 3.1, naming every /api/ route, rendered as the
/api/docs page, and true of a live `paperfeed serve` that schemathesis fuzzes against it."""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR
from starlette.routing import Match, Route

from paperfeed.web.app import create_app
from paperfeed.web.openapi import openapi_document
from tests.support.live import LiveServer, loaded_home, write_lines

pytestmark = pytest.mark.slow  # fuzzing the API: left out by `-m "not slow"`

# A 400 for data the document calls valid is right only for rules no parameter schema can say:
# two parameters together, the calendar, or what is stored. Each is in an operation's text.
RULES_ACROSS_PARAMETERS = re.compile(
    "has not happened yet"  # trending: a future date
    "|is in the future"  # daily_papers: a period more than 31 days ahead
    "|give only one of date, week and month"
    "|must be before --until"  # search: since after until
    "|offset must be between"  # search: (page - 1) x limit past 10,000
    "|give paper ids or a text"  # similar: ids xor text
)
SAMPLE_PATH_VALUES = {"paper_id": "2104.12255", "category": "cs.CL"}


def _route_table() -> set[tuple[str, str]]:
    """(method, path) of every route, in OpenAPI's spelling: {paper_id:path} → {paper_id}."""
    return {
        (method.lower(), re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path))
        for route in create_app(services=None).routes
        if isinstance(route, Route)
        for method in route.methods - {"HEAD"}
    }


def _routed(method: str, path: str) -> bool:
    concrete = path.format(**SAMPLE_PATH_VALUES)
    scope = {"type": "http", "method": method.upper(), "path": concrete, "path_params": {}}
    for route in create_app(services=None).routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return True
    return False


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_document_is_valid_openapi_3_1_with_valid_schemas_and_references():
    document = json.loads(json.dumps(openapi_document()))  # what the route serves
    OPENAPI_31_VALIDATOR.validate(document)
    for name, schema in document["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(
            {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
        ), name
    for ref in _refs(document):
        _, *steps = ref.split("/")
        target = document
        for step in steps:
            assert step in target, ref
            target = target[step]


def test_every_api_route_is_documented_and_every_documented_route_exists():
    documented = {
        (method, path)
        for path, methods in openapi_document()["paths"].items()
        for method in methods
    }
    api_routes = {(method, path) for method, path in _route_table() if path.startswith("/api/")}
    assert api_routes - documented == set(), "describe these in paperfeed/web/openapi.py"
    phantoms = [(method, path) for method, path in documented if not _routed(method, path)]
    assert phantoms == []


def test_every_operation_has_an_id_a_summary_and_the_error_shape():
    ids = []
    for path, methods in openapi_document()["paths"].items():
        for method, operation in methods.items():
            ids.append(operation["operationId"])
            assert operation["summary"], (method, path)
            assert "200" in operation["responses"], (method, path)
            refusals = {"400", "404"} & set(operation["responses"])
            assert refusals or not operation.get("parameters"), path
            for status, response in operation["responses"].items():
                if status != "200":
                    assert response["$ref"].startswith("#/components/responses/"), (path, status)
    assert len(ids) == len(set(ids))


# --- against a live server ------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory, test_data, module_database_url):
    """`paperfeed serve` over 65 real papers, indexed with the real model, two of them upvoted
    yesterday on Hugging Face (so trending has engagement, not only the newest papers)."""
    home = tmp_path_factory.mktemp("home")
    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    entries = [
        {"paper": {"id": "2403.04957", "title": "t", "upvotes": 30}, "numComments": 2},
        {"paper": {"id": "2403.02993", "title": "t", "upvotes": 4, "githubStars": 7}},
    ]
    hf = write_lines(home / "hf.jsonl", [{"date": day, "response": entries}])
    papers = test_data / "search" / "papers.jsonl"
    env = loaded_home(home, module_database_url, papers, hf, index=True)
    server = LiveServer(env).wait_ready()
    yield server
    output = server.stop()
    assert "Traceback" not in output, output


def test_the_server_serves_the_document_and_its_page(live):
    served = httpx.get(live.url + "/api/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == json.loads(json.dumps(openapi_document()))
    page = httpx.get(live.url + "/api/docs", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<script" not in html and "style=" not in html and "<style" not in html
    for path, methods in openapi_document()["paths"].items():
        for method in methods:
            assert f"<code>{method.upper()} {path}</code>" in html, (method, path)
    for name in openapi_document()["components"]["schemas"]:
        assert f'id="schema-{name}"' in html, name
    assert '<a href="#schema-Paper">Paper</a>' in html
    assert "<code>day</code>, <code>week</code>, <code>month</code>" in html


# The document as built in-process (the test above checks the server serves the same one);
# schemathesis's fixture loader does not work under pytest 9, and this needs no server to collect.
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(openapi_document())))


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_fuzzed_requests_get_documented_answers_and_never_a_server_error(live, case):
    response = case.call(base_url=live.url, timeout=60)
    # Statuses, content types, headers and bodies must match the document; a 5xx always fails.
    # The two checks of what is accepted are done below, on what was really sent.
    case.validate_response(
        response, excluded_checks=[positive_data_acceptance, negative_data_rejection]
    )
    operation = openapi_document()["paths"][case.operation.path][case.operation.method.lower()]
    if case.meta.generation.mode.is_positive and response.status_code == 400:
        # Valid by the document, refused by a rule across parameters: the message names it.
        error = response.json()["error"]
        # W53 of a year that has only 52 weeks is well-formed, but no week.
        short_year = error == "week must be written YYYY-Www" and str(
            (case.query or {}).get("week")
        ).endswith("53")
        assert short_year or RULES_ACROSS_PARAMETERS.search(error), response.text
    if case.meta.generation.mode.is_negative and response.status_code < 300:
        # Accepted: then what reached the server must be valid after all, as text on the wire
        # (schemathesis's "invalid" false or null arrive as the valid strings "false", "null").
        problems = _invalid_on_the_wire(case.operation.path, operation, response.request.url)
        assert not problems, f"{response.request.url} accepted: {problems}"


def _invalid_on_the_wire(path: str, operation: dict, url: str) -> list[str]:
    """What the server got that the document forbids, read as the handlers read it: the last
    value of a repeated parameter, integers as int() parses them, empty as absent if allowed."""
    sent = urlsplit(url)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+)", re.escape(path))
    matched = re.fullmatch(pattern, unquote(sent.path))
    in_path = matched.groupdict() if matched else {}
    in_query = parse_qs(sent.query, keep_blank_values=True)
    problems = []
    for parameter in operation.get("parameters", []):
        name, schema = parameter.get("name"), parameter.get("schema", {})
        values = [in_path[name]] if name in in_path else in_query.get(name)
        if parameter.get("in") not in ("path", "query") or values is None:
            continue
        if schema.get("type") == "array":
            instance = values
        elif values[-1] == "" and parameter.get("allowEmptyValue"):
            continue
        else:
            instance = values[-1]
            with contextlib.suppress(ValueError):
                instance = int(instance) if schema.get("type") == "integer" else instance
        validator = jsonschema_rs.validator_for(schema, validate_formats=True)
        problems += [f"{name}: {error.message}" for error in validator.iter_errors(instance)]
    return problems
