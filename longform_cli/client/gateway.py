"""The gateway's HTTP API as the CLI uses it, with every failure turned into one clear sentence."""

import uuid
from contextlib import asynccontextmanager
from typing import AsyncIterator

import httpx

from longform_cli.client.config import Credentials


class CliError(Exception):
    """A failure to report in one line; the command exits with `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def job_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise CliError(f"{value!r} is not a job id (ids look like 3f2b9c1e-...; `longform jobs` lists yours)") from None


def detail_of(response: httpx.Response) -> str:
    """What the gateway said was wrong, in one line."""
    try:
        detail = response.json().get("detail", response.text)
    except (ValueError, AttributeError):
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(detail, list):  # validation errors: where and what
        return "; ".join(f"{'.'.join(str(p) for p in e.get('loc', [])[1:])}: {e.get('msg')}" for e in detail)
    return str(detail)


def refusal(response: httpx.Response) -> CliError:
    detail = detail_of(response)
    if response.status_code == 401:
        return CliError(f"the gateway did not accept you (401: {detail}); run `longform login` or set LONGFORM_TOKEN")
    if response.status_code == 403:
        return CliError(f"not allowed (403): {detail}")
    if response.status_code == 404:
        return CliError(f"not found (404): {detail}")
    return CliError(f"the gateway refused the request ({response.status_code}): {detail}")


class Gateway:
    def __init__(self, credentials: Credentials, *, signed_in: bool = True) -> None:
        if signed_in and not credentials.token:
            raise CliError("not signed in: run `longform login` (or set LONGFORM_TOKEN and LONGFORM_URL)")
        self.url = credentials.url
        self.token = credentials.token
        headers = {"Authorization": f"Bearer {credentials.token}"} if signed_in else {}
        self.http = httpx.AsyncClient(base_url=self.url, headers=headers,
                                      timeout=httpx.Timeout(30.0, read=300.0))

    async def __aenter__(self) -> "Gateway":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.http.aclose()

    def _unreachable(self, exc: httpx.TransportError) -> CliError:
        return CliError(f"cannot reach the gateway at {self.url} ({type(exc).__name__}: {exc or 'no answer'});"
                        " is it running? Set its URL with `longform login` or LONGFORM_URL")

    async def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        """The answer to a request that succeeded; any other answer raises CliError."""
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        if response.is_error:
            raise refusal(response)
        return response

    @asynccontextmanager
    async def download(self, path: str, **params) -> AsyncIterator[httpx.Response]:
        """A streamed answer (documents and audit logs can be large), read with `aiter_bytes`."""
        try:
            async with self.http.stream("GET", path, params=params) as response:
                if response.is_error:
                    await response.aread()
                    raise refusal(response)
                yield response
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None

    async def job(self, job_id: str) -> dict:
        return (await self.call("GET", f"/v1/jobs/{job_id}")).json()

    def live_url(self, job_id: str, after_seq: int) -> str:
        return f"{self.url.replace('http', 'ws', 1)}/v1/jobs/{job_id}/audit/live?after_seq={after_seq}"
