"""A small HTTP client of the gateway, as any user's program would be."""

import json
import time

import httpx

from tests.reader import read_markdown

TERMINAL = ("completed", "failed", "cancelled")


class ApiClient:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.token = token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=30)

    @classmethod
    def signed_up(cls, base_url: str) -> "ApiClient":
        created = httpx.post(f"{base_url}/v1/users", json={"name": "tester"}, timeout=30)
        created.raise_for_status()
        return cls(base_url, created.json()["token"])

    @classmethod
    def with_password(cls, base_url: str, email: str, password: str) -> "ApiClient":
        """An account that signs in with a password; its client calls the API with the sign-up token."""
        created = httpx.post(f"{base_url}/v1/users", json={"email": email, "password": password}, timeout=30)
        created.raise_for_status()
        return cls(base_url, created.json()["token"])

    @staticmethod
    def browser(base_url: str) -> httpx.Client:
        """A client that, like the page, is signed in only by the session cookie it is given."""
        return httpx.Client(base_url=base_url, timeout=30)

    def close(self) -> None:
        self.http.close()

    def submit(self, target_words: int, **fields) -> str:
        body = {"mode": "generate", "title": "Test", "instructions": "An essay about rivers.",
                "target_words": target_words} | fields
        response = self.http.post("/v1/jobs", json=body)
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def job(self, job_id: str) -> dict:
        response = self.http.get(f"/v1/jobs/{job_id}")
        response.raise_for_status()
        return response.json()

    def wait(self, job_id: str, timeout: float = 120.0) -> dict:
        return self.wait_for(job_id, lambda state: state["status"] in TERMINAL, timeout)

    def wait_for(self, job_id: str, condition, timeout: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.job(job_id)
            if condition(state):
                return state
            time.sleep(0.3)
        raise TimeoutError(f"job {job_id} still {state['status']} after {timeout:.0f} s: {state}")

    def document(self, job_id: str) -> str:
        response = self.http.get(f"/v1/jobs/{job_id}/document", params={"format": "txt"})
        response.raise_for_status()
        return response.text

    def body(self, job_id: str) -> str:
        """The document's body: what the target counts, without its title and headings."""
        response = self.http.get(f"/v1/jobs/{job_id}/document", params={"format": "md"})
        response.raise_for_status()
        return read_markdown(response.text).body

    def audit(self, job_id: str) -> list[dict]:
        response = self.http.get(f"/v1/jobs/{job_id}/audit", params={"format": "ndjson"})
        response.raise_for_status()
        return [json.loads(line) for line in response.text.splitlines()]

    def account_audit(self) -> list[dict]:
        response = self.http.get("/v1/account/audit", params={"format": "ndjson"})
        response.raise_for_status()
        return [json.loads(line) for line in response.text.splitlines()]

    def audit_until(self, job_id: str | None, condition, timeout: float = 30.0) -> list[dict]:
        """The job's log (the account's when job_id is None) once `condition(log)` holds."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.audit(job_id) if job_id else self.account_audit()
            if condition(log):
                return log
            if time.monotonic() > deadline:
                raise AssertionError(f"the log never met the condition; last {len(log)} events")
            time.sleep(0.2)

    def live_url(self, job_id: str, after_seq: int = 0) -> str:
        return f"{self.base_url.replace('http', 'ws', 1)}/v1/jobs/{job_id}/audit/live?after_seq={after_seq}"
