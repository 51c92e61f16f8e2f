"""A client-side rate limit per provider: at most N requests a minute leave all of Longform's
processes together. The slots are handed out by Postgres (longform_meta.take_llm_slot,
migrations/0024), so five generators and a planner share one limit instead of each sending N.
Each take is one statement, audited in the operators' system stream: at most N of them a minute."""

import asyncio

from services.common.db import Database
from services.common.llm.base import Completion, LlmProvider, Prompt


class RateLimited:
    def __init__(self, inner: LlmProvider, per_minute: float, db: Database) -> None:
        self.inner = inner
        self.name = inner.name
        self.default_model = inner.default_model
        self.per_minute = per_minute
        self.db = db

    async def complete(self, prompt: Prompt) -> Completion:
        wait = await self._take_slot()
        if wait > 0:
            await asyncio.sleep(wait)  # our slot is still ahead: the limit itself, not a poll
        return await self.inner.complete(prompt)

    async def _take_slot(self) -> float:
        """Seconds until this request's slot."""
        async with self.db.transaction(system=True) as tx:
            return await tx.fetchval("SELECT longform_meta.take_llm_slot($1, $2)", self.name, self.per_minute)
