"""Waiting in a test for what must happen: `until` polls a condition until it holds. Its deadline
only bounds the wait for something that must come (a failure, if it never does), never a measure
of time and never a stand-in for "nothing happened"."""

import time
from typing import Any, Callable


def until(condition: Callable[[], Any], what: str = "the condition", timeout: float = 60.0,
          every: float = 0.05) -> Any:
    """`condition()`'s first true value, polled every `every` s; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(every)
    return result
