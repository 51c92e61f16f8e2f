"""Small synchronous client for the /_control API, for tests and chaos scripts."""

from typing import Any

import httpx


class FakeLLMControl:
    def __init__(self, root_url: str, timeout: float = 5.0) -> None:
        self._http = httpx.Client(base_url=f"{root_url.rstrip('/')}/_control", timeout=timeout)

    def script(self, *behaviours: dict[str, Any] | list[dict[str, Any]]) -> dict[str, Any]:
        """Queue behaviours, e.g. script({"kind": "rate_limit"}, {"kind": "short", "fraction": 0.5});
        a list is one chain: [{"kind": "empty", "probability": 0.3}, {"kind": "random_length"}]."""
        return self._post("/script", {"behaviours": list(behaviours)})

    def set_default(self, behaviour: dict[str, Any] | list[dict[str, Any]]) -> dict[str, Any]:
        return self._post("/default", behaviour)

    def reset(self) -> dict[str, Any]:
        return self._post("/reset", None)

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        response = self._http.get("/requests", params={"since": since})
        response.raise_for_status()
        return response.json()["requests"]

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, payload: Any) -> dict[str, Any]:
        response = self._http.post(path, json=payload)
        response.raise_for_status()
        return response.json()
