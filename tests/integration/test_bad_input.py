"""Bad input gets a clear 4xx and changes nothing (no job, no source, no change in the caller's
log); text that is merely unusual (SQL, HTML, control characters) is stored and returned verbatim.
A rewrite's sources are refused in test_sources.py; the OpenAPI-driven fuzzing is test_schemathesis.py."""

import json
import uuid

import pytest
import websockets

from tests.integration.dbread import fetch
from tests.integration.footprint import footprint

VALID = {"mode": "generate", "title": "T", "instructions": "Write about tides.", "target_words": 100}
MISSING = object()


def without(body: dict, change: dict) -> dict:
    merged = body | change
    return {k: v for k, v in merged.items() if v is not MISSING}


def assert_refused(response, status: int, field: str | None = None) -> str:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    if field is not None:
        assert any(field in error["loc"] for error in detail), detail
    return json.dumps(detail)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target_words": MISSING}, "target_words"),
        ({"target_words": 0}, "target_words"),
        ({"target_words": -5}, "target_words"),
        ({"target_words": 500_001}, "target_words"),
        ({"target_words": 10.5}, "target_words"),
        ({"target_words": 100.0}, "target_words"),
        ({"target_words": "100"}, "target_words"),
        ({"target_words": True}, "target_words"),
        ({"target_words": None}, "target_words"),
        ({"instructions": ""}, "instructions"),
        ({"instructions": "   \n\t"}, "instructions"),
        ({"instructions": MISSING}, "instructions"),
        ({"instructions": "nul \x00 here"}, "instructions"),
        ({"mode": "poem"}, "mode"),
        ({"mode": MISSING}, "mode"),
        ({"title": "t" * 301}, "title"),
        ({"priority": "high"}, "priority"),
        ({"headings": "yes"}, "headings"),
        ({"headings": 1}, "headings"),
        ({"headings": None}, "headings"),
    ],
    ids=["words-missing", "words-0", "words-negative", "words-500001", "words-float", "words-float-whole",
         "words-string", "words-bool", "words-null", "instructions-empty", "instructions-blank",
         "instructions-missing", "instructions-nul", "mode-unknown", "mode-missing", "title-too-long",
         "unknown-field", "headings-string", "headings-number", "headings-null"],
)
def test_invalid_job_is_rejected_with_422_naming_the_field_and_changes_nothing(client, database_url, change,
                                                                               field) -> None:
    before = footprint(database_url, client.token)
    response = client.http.post("/v1/jobs", json=without(VALID, change))
    assert_refused(response, 422, field)
    assert footprint(database_url, client.token) == before


def test_target_words_refusal_says_the_range(client) -> None:
    message = assert_refused(client.http.post("/v1/jobs", json=VALID | {"target_words": 500_001}), 422)
    assert "500000" in message


def test_the_largest_target_is_accepted(client) -> None:
    job_id = client.submit(500_000)
    assert client.job(job_id)["target_words"] == 500_000
    assert client.http.post(f"/v1/jobs/{job_id}/cancel").status_code == 202


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 422),
        (b"", 422),
        (b"[1, 2, 3]", 422),
        (b'"a job"', 422),
        (b"null", 422),
        (b'{"mode": "generate", "target_words": 5', 422),
        (b"\xff\xfe{\x00}", 422),
    ],
    ids=["malformed", "empty", "array", "string", "null", "truncated", "not-utf8"],
)
def test_malformed_json_body_is_refused_and_changes_nothing(client, database_url, body, status) -> None:
    before = footprint(database_url, client.token)
    response = client.http.post("/v1/jobs", content=body, headers={"Content-Type": "application/json"})
    assert_refused(response, status)
    assert response.json()["message"].startswith("The request is not a job: send a JSON object")
    assert footprint(database_url, client.token) == before


def test_oversized_json_body_is_refused_with_413_and_changes_nothing(client, database_url) -> None:
    before = footprint(database_url, client.token)
    body = json.dumps(VALID | {"instructions": "x" * (10 * 1024 * 1024)})  # over max_body_bytes (10 MiB)
    response = client.http.post("/v1/jobs", content=body, headers={"Content-Type": "application/json"})
    assert "max_body_bytes" in assert_refused(response, 413, "body")
    assert footprint(database_url, client.token) == before


def test_instructions_over_their_limit_are_refused(client, database_url) -> None:
    before = footprint(database_url, client.token)
    assert_refused(client.http.post("/v1/jobs", json=VALID | {"instructions": "x" * 100_001}), 422, "instructions")
    assert footprint(database_url, client.token) == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty"),
        ("latin1.txt", "crème brûlée".encode("latin-1"), "not valid UTF-8"),
        ("binary.md", bytes(range(256)) * 4, "not valid UTF-8"),
        ("controls.txt", b"\x01\x02\x03\x04" * 100 + b" words", "binary"),
    ],
)
def test_bad_source_is_refused_and_changes_nothing(client, database_url, name, content, message) -> None:
    before = footprint(database_url, client.token)
    form = {k: str(v) for k, v in (VALID | {"mode": "rewrite"}).items()}
    response = client.http.post("/v1/jobs", data=form, files={"source": (name, content, "text/plain")})
    assert message in assert_refused(response, 422, "source")
    assert footprint(database_url, client.token) == before


def test_source_over_the_default_size_cap_is_refused_with_413_and_changes_nothing(client, database_url) -> None:
    before = footprint(database_url, client.token)
    form = {k: str(v) for k, v in (VALID | {"mode": "rewrite"}).items()}
    content = b"word " * (8 * 1024 * 1024 // 5 + 1)  # just over max_source_bytes (8 MiB), under max_body_bytes
    response = client.http.post("/v1/jobs", data=form, files={"source": ("big.txt", content, "text/plain")})
    assert "max_source_bytes" in assert_refused(response, 413, "source")
    assert footprint(database_url, client.token) == before


JOB_ROUTES = [("GET", ""), ("GET", "/document"), ("GET", "/audit"), ("POST", "/cancel"), ("POST", "/resume"),
              ("DELETE", "")]


@pytest.mark.parametrize(("method", "path"), JOB_ROUTES)
def test_unknown_job_is_404_on_every_route_and_changes_nothing(client, database_url, method, path) -> None:
    before = footprint(database_url, client.token)
    response = client.http.request(method, f"/v1/jobs/{uuid.uuid4()}{path}")
    assert response.status_code == 404
    assert response.json() == {"detail": "job not found"}
    assert footprint(database_url, client.token) == before


@pytest.mark.parametrize(("method", "path"), JOB_ROUTES)
def test_a_job_id_that_is_not_a_uuid_is_refused_with_422(client, method, path) -> None:
    response = client.http.request(method, f"/v1/jobs/not-a-uuid{path}")
    assert_refused(response, 422, "job_id")


SIGNED_IN_ROUTES = [*((method, f"/v1/jobs/{{job}}{path}") for method, path in JOB_ROUTES),
                    ("POST", "/v1/jobs"), ("GET", "/v1/jobs"), ("GET", "/v1/account/audit"), ("GET", "/v1/me"),
                    ("GET", "/v1/tokens"), ("POST", "/v1/tokens"), ("DELETE", "/v1/tokens/{token}")]
BODIES = {("POST", "/v1/jobs"): VALID, ("POST", "/v1/tokens"): {"name": "stolen"}}


@pytest.mark.parametrize(("method", "route"), SIGNED_IN_ROUTES)
@pytest.mark.parametrize("authorization", ["", "Bearer not-a-token", "Bearer", "Basic dXNlcjpwYXNz"])
def test_every_route_needs_a_valid_token_and_is_401_without(client, database_url, method, route,
                                                            authorization) -> None:
    job_id = client.submit(5) if "{job}" in route else None
    token_id = client.http.get("/v1/tokens").json()["tokens"][0]["id"]
    before = footprint(database_url, client.token)
    url = route.format(job=job_id, token=token_id)
    response = client.http.request(method, url, json=BODIES.get((method, route)),
                                   headers={"Authorization": authorization})
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert footprint(database_url, client.token) == before
    assert client.http.get("/v1/tokens").json()["tokens"][0]["id"] == token_id  # the caller's token still works
    if job_id:
        assert client.job(job_id)["id"] == job_id  # not deleted, for one


async def test_websocket_refuses_a_bad_token_and_an_unknown_job(client) -> None:
    job_id = client.submit(5)
    cases = [(client.live_url(job_id), {"Authorization": "Bearer not-a-token"}, 4401),
             (client.live_url(job_id), {}, 4401),
             (client.live_url(str(uuid.uuid4())), {"Authorization": f"Bearer {client.token}"}, 4404),
             (client.live_url("not-a-uuid"), {"Authorization": f"Bearer {client.token}"}, 4404)]
    for url, headers, code in cases:
        async with websockets.connect(url, additional_headers=headers) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd.code == code


@pytest.mark.parametrize("after_seq", ["abc", "1.5", "", "--5", "\u00b2"])
async def test_websocket_refuses_an_after_seq_that_is_not_a_whole_number(client, after_seq) -> None:
    job_id = client.submit(5)
    url = client.live_url(job_id).replace("after_seq=0", f"after_seq={after_seq}")
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {client.token}"}) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4422, "after_seq must be a whole number")


UNUSUAL = ("Robert'); DROP TABLE gateway.jobs;-- <script>alert(1)</script> &amp; \x01\x1b[31m\x7f"
           " \t tab \u202e rtl \u200b zwsp 😀 \\x00 literally")


def test_text_with_sql_html_and_control_characters_is_stored_and_returned_verbatim(client, database_url) -> None:
    job_id = client.submit(10, title=UNUSUAL, instructions=UNUSUAL + "\nWrite about tides.", model=UNUSUAL[:200])
    view = client.job(job_id)
    assert (view["title"], view["model"]) == (UNUSUAL, UNUSUAL[:200])
    assert client.http.get("/v1/jobs").json()["jobs"][0]["title"] == UNUSUAL
    row = fetch(database_url, "SELECT title, instructions FROM gateway.jobs WHERE id = $1::uuid", job_id)[0]
    assert (row["title"], row["instructions"]) == (UNUSUAL, UNUSUAL + "\nWrite about tides.")


def test_source_with_sql_html_and_a_few_control_characters_is_stored_verbatim(client, database_url) -> None:
    source = ("A paragraph about canals. " * 40) + UNUSUAL
    job_id = client.submit(50, mode="rewrite", source_text=source)
    stored = fetch(database_url, "SELECT text FROM gateway.sources WHERE job_id = $1::uuid", job_id)
    assert [r["text"] for r in stored] == [source]


def test_a_nul_in_a_sign_up_email_is_refused_with_422_not_500(client) -> None:
    body = {"email": "a\x00b@example.com", "password": "long enough password", "name": "n"}
    response = client.http.post("/v1/users", json=body, headers={"Authorization": ""})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(("change", "sentence"), [
    ({"target_words": 0}, "The target must be a whole number of words from 1 to 500,000."),
    ({"target_words": "100"}, "The target must be a whole number of words from 1 to 500,000."),
    ({"instructions": "   "}, "Write the instructions: they are empty."),
    ({"mode": "poem"}, "Choose a mode: generate (from the instructions), rewrite (a source to rework) or analyze"),
    ({"priority": "high"}, "“priority” is not a field of a job: leave it out."),
    ({"instructions": MISSING}, "The instructions is missing"),
    ({"headings": "yes"}, "Headings must be true or false."),
], ids=["target-zero", "target-string", "instructions-blank", "mode", "unknown-field", "missing", "headings"])
def test_a_refusal_says_what_is_wrong_in_a_sentence_beside_the_machine_fields(client, change, sentence) -> None:
    response = client.http.post("/v1/jobs", json=without(VALID, change))
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][0] == "body"
    assert response.json()["message"].startswith(sentence)


def test_a_job_without_a_title_is_named_from_its_instructions(client) -> None:
    for title in (MISSING, "", "   "):
        body = without(VALID | {"instructions": "A field guide to imaginary rivers. With maps."}, {"title": title})
        response = client.http.post("/v1/jobs", json=body)
        assert response.status_code == 202, response.text
        assert client.job(response.json()["id"])["title"] == "A field guide to imaginary rivers"
