"""Turns either SDK's exceptions into one LlmError shape (both SDKs share these names)."""

import time
from typing import Awaitable, Callable

from services.common.llm.base import Completion, LlmError


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def classify(exc: Exception, started: float) -> LlmError:
    latency = int((time.perf_counter() - started) * 1000)
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if name == "RateLimitError" or status == 429:
        return LlmError("rate_limited", str(exc), retryable=True, retry_after=_retry_after(exc), latency_ms=latency)
    if name in ("APITimeoutError", "APIConnectionError"):
        return LlmError(name, str(exc), retryable=True, latency_ms=latency)
    if status is not None and status >= 500:
        return LlmError("server_error", str(exc), retryable=True, retry_after=_retry_after(exc), latency_ms=latency)
    return LlmError(name, str(exc), retryable=False, latency_ms=latency)


async def classified(call: Callable[[float], Awaitable[Completion]], sdk_error: type[Exception]) -> Completion:
    """Runs one SDK call, turning the SDK's errors into LlmError with the latency so far."""
    started = time.perf_counter()
    try:
        return await call(started)
    except sdk_error as exc:
        raise classify(exc, started) from exc
