"""The one retry policy: honour the provider's Retry-After, otherwise back off exponentially."""

import random

MAX_DELAY_SECONDS = 60.0


def retry_delay(failures: int, retry_after: float | None = None) -> float:
    if retry_after is not None:
        return min(max(retry_after, 0.0), MAX_DELAY_SECONDS)
    base = min(0.5 * 2 ** max(failures - 1, 0), 20.0)
    return base * random.uniform(0.8, 1.2)
