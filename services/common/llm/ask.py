"""One structured request (an outline, a summary) with the one retry policy: provider errors
are retried after Retry-After or a backoff, unusable replies are retried at once, and every
attempt is stored and audited. A refusal of the structured-output parameter is no try: the
provider is asked again at once, in plain text."""

import asyncio
from typing import Awaitable, Callable

from services.common.db import Tx
from services.common.llm.base import Completion, LlmError, LlmProvider, Prompt
from services.common.llm.calls import Call, LlmCallLog
from services.common.llm.structured import FORMAT_REFUSED
from services.common.retry import PROVIDER

Judge = Callable[[Completion], str | None]  # why a reply is unusable, or None
Keep = Callable[[Tx], Awaitable[None]]  # stores what a usable reply produced


async def ask(llm: LlmProvider, prompt: Prompt, log: LlmCallLog, *, attempts: int, judge: Judge,
              keep: Keep | None = None) -> Completion | None:
    """The first usable completion, or None. `keep` stores what the usable one produced in the
    transaction that records it as kept (LlmCallLog.record's `with_it`)."""
    attempt = tries = 0
    while tries < attempts:
        attempt += 1
        try:
            completion = await llm.complete(prompt)
        except LlmError as err:
            await log.record(Call(attempt, prompt, None, kept=False, error=str(err), latency_ms=err.latency_ms))
            if err.kind == FORMAT_REFUSED:
                continue
            tries += 1
            if not err.retryable:
                return None
            await asyncio.sleep(PROVIDER.delay(tries, err.retry_after))
            continue
        tries += 1
        problem = judge(completion)
        await log.record(Call(attempt, prompt, completion, kept=problem is None, error=problem),
                         with_it=keep if problem is None else None)
        if problem is None:
            return completion
    return None
