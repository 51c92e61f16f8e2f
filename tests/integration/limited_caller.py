"""One process of test_llm_rate_limit.py: connects as the generator does, says "ready", waits for
"go" on stdin, then makes `calls` requests at once through the configured (rate-limited) provider.
Configured by the environment, as a service is; each request carries the tag given as argv[2]."""

import asyncio
import sys

from services.common.config import LlmSettings
from services.common.db import Database
from services.common.llm import Prompt, provider_from_settings


async def main(calls: int, tag: str) -> None:
    settings = LlmSettings()
    db = await Database.connect(settings.database_url, "generator", max_size=2)
    try:
        llm = provider_from_settings(settings, db)
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        prompt = Prompt(system="Write.", user="A sentence, please.", max_tokens=20,
                        headers={"x-longform-chunk": tag})
        await asyncio.gather(*(llm.complete(prompt) for _ in range(calls)))
    finally:
        await db.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
