"""The one retry policy: wait `first` seconds before the first retry, twice as long before each
next one, never more than `cap`; spread each wait by ±`jitter` so processes that failed together
do not retry together; and when the other side said how long to wait (an LLM provider's
Retry-After), wait that instead. Each kind of retry is one named instance below, so a reader
sees every wait the system makes in one place."""

import random
from dataclasses import dataclass

MAX_RETRY_AFTER_SECONDS = 60.0  # a provider asking for longer is retried after this; the message's heartbeats go on
_MAX_DOUBLINGS = 60  # past this every delay is the cap; keeps 2**n a float


@dataclass(frozen=True)
class Backoff:
    first: float
    cap: float
    jitter: float = 0.0  # a fraction of the delay: 0.2 is ±20 %

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (1 is the first retry)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_RETRY_AFTER_SECONDS)
        doublings = min(max(attempt - 1, 0), _MAX_DOUBLINGS)
        base = min(self.first * 2.0**doublings, self.cap)
        return base * random.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else base


# An LLM provider that failed (5xx, 429 without Retry-After, a timeout).
PROVIDER = Backoff(first=0.5, cap=20.0, jitter=0.2)
# A message whose handler failed, nacked for redelivery: delivery 1 failed waits 1 s, then 2, 4 ... 30.
REDELIVERY = Backoff(first=1.0, cap=30.0)
# Postgres or NATS away (the outbox relay, a handler holding its message through an outage, a
# service waiting for the database at start): short waits, so work resumes soon after they are back.
OUTAGE = Backoff(first=0.2, cap=2.0, jitter=0.2)
# A process or background loop that died, started again: a crash loop settles at one start per 5 s.
RESTART = Backoff(first=0.2, cap=5.0)
