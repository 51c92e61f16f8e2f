"""Requests left in flight on threads while a test asks others: that a reply waits is proven by the
order answers come in (a request sent later is answered first), never by the test's clock."""

import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterator

from tests.waiting import until

ARRIVAL_SECONDS = 15.0


@contextlib.contextmanager
def in_flight(control, *calls: Callable[[], Any]) -> Iterator[list[Future]]:
    """Start each call on a thread of its own and yield their futures once the fake has logged
    every one of them, so whatever the test sends next is sent after they arrived."""
    arrived = len(control.requests()) + len(calls)
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        wait_until(lambda: len(control.requests()) >= arrived or any(f.done() for f in futures))
        yield futures


def wait_until(condition: Callable[[], Any], seconds: float = ARRIVAL_SECONDS) -> Any:
    """Polls for `condition`; a deadline only bounds a wait for something that must happen."""
    return until(condition, timeout=seconds, every=0.02)
