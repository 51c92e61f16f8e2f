"""What a user's requests have changed, to prove that a refused request changed nothing.

Every request is audited, refused or not: the reads it made reach the caller's log as a
`db.query` event. So "nothing changed" means: no job or source row, and no event in the gateway's
outbox (committed with the request, so nothing here is eventual) other than a `db.query` whose
statements wrote nothing but that event's own outbox row."""

from dataclasses import dataclass

from services.gateway.auth import secret_hash
from tests.integration.dbread import fetch

_COUNTS = """
SELECT (SELECT count(*) FROM gateway.jobs WHERE user_id = $1) AS jobs,
       (SELECT count(*) FROM gateway.sources s JOIN gateway.jobs j ON j.id = s.job_id WHERE j.user_id = $1) AS sources,
       (SELECT count(*) FROM gateway.outbox o WHERE o.payload->>'user_id' = $1::text AND (o.type <> 'db.query'
            OR EXISTS (SELECT 1 FROM jsonb_array_elements(o.payload->'data'->'statements') st,
                                     jsonb_each_text(st->'tables') t
                       WHERE t.value = 'write' AND t.key <> 'gateway.outbox'))) AS changes
"""


@dataclass(frozen=True)
class Footprint:
    jobs: int
    sources: int
    changes: int  # outbox events that record a change: job.requested, cancel, rows written...


def user_of(database_url: str, token: str):
    rows = fetch(database_url, "SELECT user_id FROM gateway.api_tokens WHERE token_hash = $1", secret_hash(token))
    return rows[0]["user_id"]


def footprint(database_url: str, token: str) -> Footprint:
    row = fetch(database_url, _COUNTS, user_of(database_url, token))[0]
    return Footprint(row["jobs"], row["sources"], row["changes"])
