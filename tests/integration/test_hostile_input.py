"""No input gets a 5xx (SECURITY: "No 5xx from any input"): numbers JSON cannot hold (NaN,
Infinity, -Infinity, beyond a float's range) and nesting deeper than 64 are refused with a 422
naming the problem, on every route that reads JSON, signed in or not, and change nothing; random
bytes posted to every route, under every content type, never make the gateway fail."""

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from services.gateway.jsonbody import MAX_DEPTH
from tests.integration.client import ApiClient
from tests.integration.footprint import footprint

VALID_JOB = '{"mode": "generate", "title": "T", "instructions": "Write about tides.", "target_words": %s}'
VALID_USER = '{"name": "n", "email": "x@example.com", "password": "long enough password", "extra": %s}'
VALID_SESSION = '{"email": "x@example.com", "password": %s}'
VALID_TOKEN = '{"name": %s}'
JSON_ROUTES = [("/v1/jobs", VALID_JOB), ("/v1/users", VALID_USER), ("/v1/session", VALID_SESSION),
               ("/v1/tokens", VALID_TOKEN)]
NOT_NUMBERS = {"NaN": "NaN is not a JSON number", "Infinity": "Infinity is not a JSON number",
               "-Infinity": "-Infinity is not a JSON number", "[1, NaN]": "NaN is not a JSON number",
               '{"a": Infinity}': "Infinity is not a JSON number",
               "1e999": "the number 1e999 is beyond the range", "-1e999": "the number -1e999 is beyond the range"}


def _post(client: ApiClient, path: str, body: str | bytes, content_type: str = "application/json") -> httpx.Response:
    return client.http.post(path, content=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize("path, template", JSON_ROUTES, ids=[p for p, _ in JSON_ROUTES])
@pytest.mark.parametrize("number, message", NOT_NUMBERS.items())
def test_a_number_json_cannot_hold_is_refused_with_422_naming_it_and_changes_nothing(
        client, database_url, path, template, number, message) -> None:
    before = footprint(database_url, client.token)
    response = _post(client, path, template % number)
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["type"] == "json_invalid_number" and problem["msg"].startswith(message), problem
    assert footprint(database_url, client.token) == before


@pytest.mark.parametrize("path, template", JSON_ROUTES, ids=[p for p, _ in JSON_ROUTES])
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 2_000, 200_000])
def test_json_nested_deeper_than_64_is_refused_with_422_and_changes_nothing(
        client, database_url, path, template, depth) -> None:
    before = footprint(database_url, client.token)
    response = _post(client, path, template % ("[" * depth + "]" * depth))
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [{"type": "json_too_deep", "loc": ["body"],
                                          "msg": f"JSON is nested deeper than {MAX_DEPTH} levels"}]
    assert footprint(database_url, client.token) == before


def test_nesting_of_64_levels_is_read_and_judged_on_its_fields(client) -> None:
    # The job's target_words sits at level 1: 63 more levels inside it make it a list, not a number.
    response = _post(client, "/v1/jobs", VALID_JOB % ("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)))
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "target_words"] and problem["type"] != "json_too_deep"


def test_a_job_sent_without_a_content_type_is_read_as_strictly(client) -> None:
    response = client.http.post("/v1/jobs", content=VALID_JOB % "NaN", headers={"Content-Type": ""})
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "json_invalid_number"


@pytest.fixture(scope="module")
def routes(stack) -> list[tuple[str, str]]:
    """Every operation of the API (with a made-up id where the path has one) and the pages."""
    schema = httpx.get(f"{stack.config.gateway_url}/openapi.json").json()
    found = [(method.upper(), path.replace("{job_id}", "00000000-0000-0000-0000-000000000001")
              .replace("{token_id}", "00000000-0000-0000-0000-000000000002"))
             for path, operations in schema["paths"].items() for method in operations]
    assert ("POST", "/v1/jobs") in found and ("POST", "/v1/users") in found
    return found + [("GET", "/"), ("GET", "/jobs"), ("GET", "/login"), ("POST", "/login")]


CONTENT_TYPES = ["application/json", "multipart/form-data; boundary=xyz", "application/x-www-form-urlencoded",
                 "text/plain", "application/octet-stream", ""]


def test_random_bytes_to_every_route_never_get_a_server_error(stack, routes) -> None:
    api = ApiClient.signed_up(stack.config.gateway_url)
    answered: list[int] = []

    @given(route=st.sampled_from(routes), content_type=st.sampled_from(CONTENT_TYPES),
           body=st.one_of(st.binary(max_size=2048), st.text(max_size=512).map(str.encode),
                          st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                                       lambda inner: st.lists(inner, max_size=4)
                                       | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                                       max_leaves=30).map(lambda v: json.dumps(v).encode())))
    @settings(max_examples=300, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def post(route, content_type, body) -> None:
        method, path = route
        response = api.http.request(method, path, content=body, headers={"Content-Type": content_type})
        assert response.status_code < 500, f"{method} {path} [{content_type}] {body[:200]!r}: {response.text}"
        answered.append(response.status_code)

    try:
        post()
    finally:
        api.close()
    assert len(answered) == 300 and any(400 <= status < 500 for status in answered)


@pytest.mark.parametrize("query, kept", [("next=%2F%09%2Fevil.example%2Fphish", "/"), ("next=%2F%2Fevil.example", "/"),
                                         ("next=%2Fjobs%3Fpage%3D2", "/jobs?page=2")])
def test_the_sign_in_page_carries_on_only_to_a_path_on_this_site(stack, query, kept) -> None:
    page = httpx.get(f"{stack.config.gateway_url}/login?{query}")
    assert page.status_code == 200 and f'data-next="{kept}"' in page.text
