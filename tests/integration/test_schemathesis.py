"""The API never answers 5xx to a client's mistake, and answers as its OpenAPI says: schemathesis
generates requests, valid and invalid, for every operation of the running gateway's /openapi.json
and checks each answer.

Nothing in the schema is excluded. The live audit websocket (/v1/jobs/{id}/audit/live) is not in
it, since OpenAPI cannot describe a websocket; its refusals are tested in test_isolation.py and
test_bad_input.py. The operations are run from the test body with schemathesis' Python API
(`as_strategy`), not `schemathesis.pytest.from_fixture`: that loader fails under pytest 9
(`'Function' object has no attribute '_nodeid'`), and the schema exists only once the stack runs."""

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.client import ApiClient

MAX_EXAMPLES = 30  # per operation and generation mode: about 900 requests, half a minute
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def caller(stack):
    api = ApiClient.signed_up(stack.config.gateway_url)
    yield api
    api.close()


@pytest.fixture(scope="module")
def finished_job(caller) -> str:
    job_id = caller.submit(50)
    assert caller.wait(job_id)["status"] == "completed"
    return job_id


def _operations(base_url: str) -> list:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def _exercise(operation, mode: GenerationMode, caller: ApiClient, job_id: str, failures: list[str]) -> list:
    """Runs the operation's generated requests; returns the status of each answer (None for one
    that failed a check). A valid read of a job asks for `job_id`, so what the reads answer (each
    document and audit format) is checked too, not only their 404."""
    headers = {"Authorization": f"Bearer {caller.token}"}
    statuses: list[int | None] = []

    fixed = {"job_id": job_id} if mode == GenerationMode.POSITIVE and _reads_a_job(operation) else None
    if fixed and "{index}" in operation.path:
        fixed["index"] = 0  # a section the finished job has (GET /v1/jobs/{job_id}/sections/{index})

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed))
    # Derandomized: the same requests every run, so a failure here is never a fluke of the seed.
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        try:
            response = case.call_and_validate(headers=headers, checks=CHECKS)
        except (AssertionError, FailureGroup) as failure:  # each names the check and the curl to replay it
            failures.append(f"{operation.label} [{mode.value}]: {failure}")
            statuses.append(None)
            return
        statuses.append(response.status_code)
        _stop_if_a_job_was_made(case, response, caller)

    try:
        run()
    except Unsatisfiable:
        # An operation with no parameters and no body (GET /v1/me) has nothing to get wrong.
        assert mode == GenerationMode.NEGATIVE, f"{operation.label}: no valid request could be generated"
    return statuses


def _reads_a_job(operation) -> bool:
    return operation.method.upper() == "GET" and "{job_id}" in operation.path


def _stop_if_a_job_was_made(case, response, caller: ApiClient) -> None:
    """A generated job may ask for 500,000 words: cancel it, so it does not keep the stack busy."""
    if case.method.upper() == "POST" and case.path == "/v1/jobs" and response.status_code == 202:
        job_id = response.json()["id"]
        cancelled = httpx.post(f"{caller.base_url}/v1/jobs/{job_id}/cancel", headers=dict(caller.http.headers))
        assert cancelled.status_code in (202, 409), cancelled.text


def test_every_operation_answers_as_documented_and_never_with_a_server_error(stack, caller, finished_job) -> None:
    operations = _operations(stack.config.gateway_url)
    assert {"POST /v1/jobs", "GET /v1/jobs/{job_id}/document", "DELETE /v1/jobs/{job_id}"} <= {
        op.label for op in operations}
    failures: list[str] = []
    for operation in operations:
        valid = _exercise(operation, GenerationMode.POSITIVE, caller, finished_job, failures)
        invalid = _exercise(operation, GenerationMode.NEGATIVE, caller, finished_job, failures)
        assert valid, f"{operation.label}: no request was sent"
        assert not invalid or any(400 <= (status or 0) < 500 for status in invalid), \
            f"{operation.label}: no invalid request was refused"
        if _reads_a_job(operation):
            assert 200 in valid, f"{operation.label}: never answered for the finished job"
    assert not failures, f"{len(failures)} failing requests:\n\n" + "\n\n".join(failures[:20])
