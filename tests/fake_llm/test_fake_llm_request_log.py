"""The request log read over /_control while LLM requests keep arriving."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

pytestmark = pytest.mark.timeout(120)

REQUESTS = 600
SENDERS = 8


def test_log_read_during_concurrent_requests_never_fails_and_pages_every_request_once(server, control):
    sent = threading.Event()
    with httpx.Client(base_url=f"{server.root_url}/_control", timeout=30) as reader, ThreadPoolExecutor(1) as sender:
        first = reader.get("/requests").json()["next"]
        sending = sender.submit(_send_requests, server.openai_base_url, sent)
        pages = _read_until(reader, first, sent)
        sending.result()
    indices = [entry["index"] for page in pages for entry in page["requests"]]
    assert sorted(indices) == list(range(first, first + REQUESTS))
    assert len(pages) > 1


def _send_requests(base_url: str, sent: threading.Event) -> None:
    body = {"model": "fake-gpt", "messages": [{"role": "user", "content": "Write 5 words."}]}
    try:
        with httpx.Client(base_url=base_url, timeout=30) as http, ThreadPoolExecutor(SENDERS) as pool:
            sends = pool.map(lambda _: http.post("/chat/completions", json=body).status_code, range(REQUESTS))
            statuses = list(sends)
        assert statuses == [200] * REQUESTS
    finally:
        sent.set()


def _read_until(reader: httpx.Client, cursor: int, sent: threading.Event) -> list[dict]:
    """Page through the log with `next`, and re-read it whole on every turn, until the senders
    are done and one more page has been read."""
    pages, last_turn = [], False
    while not last_turn:
        last_turn = sent.is_set()
        assert reader.get("/requests").status_code == 200
        page = reader.get("/requests", params={"since": cursor})
        assert page.status_code == 200, page.text
        pages.append(page.json())
        cursor = pages[-1]["next"]
    return pages
