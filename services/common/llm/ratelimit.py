"""A client-side rate limit per provider: at most N requests per minute leave this process."""

import asyncio
import time

from services.common.llm.base import Completion, LlmProvider, Prompt


class RateLimited:
    def __init__(self, inner: LlmProvider, per_minute: float) -> None:
        self.inner = inner
        self.name = inner.name
        self.default_model = inner.default_model
        self.interval = 60.0 / per_minute
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def complete(self, prompt: Prompt) -> Completion:
        async with self._lock:
            wait = self._next - time.monotonic()
            self._next = max(self._next, time.monotonic()) + self.interval
        if wait > 0:
            await asyncio.sleep(wait)
        return await self.inner.complete(prompt)
