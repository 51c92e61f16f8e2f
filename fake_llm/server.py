"""Run the fake LLM with uvicorn in a background thread, for tests in the same process."""

import contextlib
import socket
import threading
import time
from dataclasses import dataclass
from typing import Iterator

import httpx
import uvicorn

from fake_llm.app import create_app
from fake_llm.control_client import FakeLLMControl

_STARTUP_SECONDS = 10.0


@dataclass(frozen=True)
class FakeLLMServer:
    root_url: str  # http://127.0.0.1:PORT: anthropic base_url, and home of /_control
    _server: uvicorn.Server
    _thread: threading.Thread

    @property
    def openai_base_url(self) -> str:
        return f"{self.root_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.root_url

    def control(self) -> FakeLLMControl:
        return FakeLLMControl(self.root_url)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def serve_in_thread(
    port: int = 0, host: str = "127.0.0.1", default_behaviour: str | None = None
) -> FakeLLMServer:
    """Start on `port` (0 picks a free one), return once the server answers HTTP."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    config = uvicorn.Config(
        create_app(default_behaviour), log_level="warning", timeout_graceful_shutdown=1, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    handle = FakeLLMServer(f"http://{host}:{listener.getsockname()[1]}", server, thread)
    _wait_until_answering(handle)
    return handle


@contextlib.contextmanager
def running_fake_llm(port: int = 0, default_behaviour: str | None = None) -> Iterator[FakeLLMServer]:
    server = serve_in_thread(port, default_behaviour=default_behaviour)
    try:
        yield server
    finally:
        server.stop()


def _wait_until_answering(server: FakeLLMServer) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.openai_base_url}/models", timeout=1).status_code == 200:
                return
        time.sleep(0.02)
    server.stop()
    raise RuntimeError(f"fake LLM did not start answering at {server.root_url}")
