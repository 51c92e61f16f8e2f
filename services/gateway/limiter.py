"""Per-client rate limits on what an abuser would repeat: sign-up and sign-in (per address),
token and job creation (per account). Counted in Postgres (gateway.rate_limits, one statement a
request), so every gateway replica shares them. Over the limit: 429 with Retry-After. A refused
request goes to the log as `request.refused` (the account's, or for sign-up and sign-in the
operators' system stream), but only the first LOGGED_PER_WINDOW of a window: the event carries the count of every refusal in it so far, so a
flood costs the log a few lines, not one per request."""

import uuid

from fastapi import HTTPException, Request

from contracts.envelope import Envelope
from contracts.messages import RequestRefused
from services.gateway.config import GatewaySettings

LOGGED_PER_WINDOW = 5
WINDOW_SECONDS = 60
ACTIONS = ("signup", "signin", "token", "job")


def per_minute(settings: GatewaySettings) -> dict[str, int]:
    """`rate_limits` ("signup=10,signin=20,token=20,job=60"): requests a client may make a minute
    (0: no limit)."""
    limits = dict.fromkeys(ACTIONS, 0)
    for part in filter(None, (p.strip() for p in settings.rate_limits.split(","))):
        action, _, value = part.partition("=")
        if action not in limits or not value.isdigit():
            raise ValueError(f"rate_limits: {part!r} is not one of {', '.join(ACTIONS)} = a whole number")
        limits[action] = int(value)
    return limits


def client_of(request: Request) -> str:
    return f"ip:{request.client.host if request.client else 'unknown'}"


async def take(request: Request, action: str, *, user_id: uuid.UUID | None = None) -> None:
    """Takes one request of `action` for the caller, or refuses it with 429 and Retry-After."""
    limit = request.app.state.rate_limits[action]
    if not limit:
        return
    client = f"user:{user_id}" if user_id and action in ("token", "job") else client_of(request)
    db = request.app.state.db
    async with db.transaction(user_id=user_id) as tx:
        taken = await tx.fetchrow("SELECT * FROM gateway.take_rate_limit($1, $2, $3, $4)",
                                  client, action, limit, WINDOW_SECONDS)
        if not taken["allowed"] and taken["refused"] <= LOGGED_PER_WINDOW:
            tx.system = user_id is None  # no account to log it in: the operators' system stream
            tx.emit(Envelope.wrap(RequestRefused(action=action, client=client, limit_per_minute=limit,
                                                 refused_this_minute=taken["refused"]),
                                  service="gateway", job_id=None, user_id=user_id))
    if not taken["allowed"]:
        raise HTTPException(429, f"too many {action} requests: at most {limit} a minute from one client;"
                                 f" try again in {taken['retry_after']} s",
                            headers={"Retry-After": str(taken["retry_after"])})
