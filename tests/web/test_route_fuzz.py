"""Every route of a live `paperfeed serve` answers hostile path values, tokens and form fields
with a 4xx, never a 500, on SQLite and PostgreSQL (issue 17 §4). The JSON API is also fuzzed
against its OpenAPI document (test_openapi.py); this covers the rest: pages, forms and the
signed-token routes, signed in, with a valid CSRF token so the handlers' own parsing runs.
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from paperfeed.web.app import create_app
from tests.support.live import csrf_of
from tests.web.test_accounts import sign_in
from tests.web.test_accounts import site as site

pytestmark = pytest.mark.slow  # fuzzing every route: left out by `-m "not slow"`

TOKEN_ROUTES = (
    "/subscribe/confirm/{}",
    "/subscription/{}",
    "/unsubscribe/{}",
    "/digest/vote/{}",
    "/digest/feed/{}",
)


def forged_token(subscriber_id: object, purpose: str = "manage", expires: object = 0) -> str:
    """A token of the right shape whose payload says anything (its MAC is wrong)."""
    payload = json.dumps([subscriber_id, purpose, expires]).replace("Infinity", "1e400")
    encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{encoded}.AAAAAAAAAAAAAAAAAAAAAA"


HOSTILE_NUMBERS = [2**31, 2**63, 2**64, 10**30, -1, 0, float("inf")]
hostile_tokens = st.one_of(
    st.sampled_from([forged_token(n) for n in HOSTILE_NUMBERS]),
    st.builds(forged_token, st.integers(), st.text(max_size=20), st.integers()),
    st.text(max_size=80),
    st.from_regex(r"[A-Za-z0-9_\-]{1,60}\.[A-Za-z0-9_\-]{0,30}", fullmatch=True),
)
hostile_values = st.one_of(
    hostile_tokens,
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["1e400", "NaN", "9" * 40, "%00", "../..", "2401.00001v99999"]),
)


def _routes() -> list[tuple[str, str]]:
    return sorted(
        (route.path, method)
        for route in create_app(services=None).routes
        if isinstance(route, Route)
        for method in route.methods - {"HEAD"}
        if route.path != "/sign-out"  # it would end the signed-in session the fuzz relies on
    )


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{\w+(:\w+)?\}", lambda _: quote(value, safe=""), path)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_no_route_answers_500_to_hostile_values(site):
    client = sign_in(site, "fuzz@example.org")
    csrf = csrf_of(client.get("/subscribe").text)
    routes = _routes()
    seen: list[tuple[str, str, int]] = []

    @settings(
        max_examples=12,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(value=hostile_values, field=hostile_values)
    def each_route(value: str, field: str) -> None:
        for path, method in routes:
            url = _fill(path, value)
            if method == "GET":
                answer = client.get(url, params={"q": field, "id": field, "token": field})
            else:
                form = {"csrf_token": csrf, "collection": field, "paper_id": field}
                form |= {"token": field, "email": "x@example.org", "on": field, "action": field}
                answer = client.request(method, url, data=form)
            seen.append((method, path, answer.status_code))
            assert answer.status_code < 500, (method, url, form if method != "GET" else field)

    each_route()
    assert {path for _, path, _ in seen} == {path for path, _ in routes}

    # The cases reported: ids past 2**31 or 2**63, and 1e400, inside signed tokens are a 400.
    for path in TOKEN_ROUTES:
        for number in HOSTILE_NUMBERS:
            token = forged_token(number)
            assert client.get(path.format(token)).status_code == 400, (path, number)
            posted = client.post(path.format(token), data={"csrf_token": csrf})
            assert posted.status_code in (400, 405), (path, number)
    for number in (2**31, 2**63, 10**30):
        gone = client.post(f"/library/collections/{number}/delete", data={"csrf_token": csrf})
        assert gone.status_code == 404
        filed = client.post(
            "/library/file",
            data={"csrf_token": csrf, "collection": str(number), "paper_id": "2401.00001"},
        )
        assert filed.status_code == 404
    assert "Traceback" not in site.stop()
