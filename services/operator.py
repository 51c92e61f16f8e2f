"""The operator's one door into the services: what `longform db ...`, `longform users ...` and the
local stack do on the database itself, as its owner, because no API offers it (applying the
schema, letting the roles log in locally, making an account an operator, recomputing the job
state projection). Everything else the CLI does goes through the gateway's public API."""

import json
import uuid
from dataclasses import dataclass

import asyncpg
from pydantic import ValidationError

from services.audit.projection import JobState
from services.audit.store import rebuild_job_state, save_states, state_of
from services.common.db import Database
from services.common.migrations import LEDGER, Migration, applied, available, migrate, pending, scratch_database
from services.common.roles import allow_local_logins, service_url
from services.gateway.accounts import EmailTaken, SignUp, create_account
from services.gateway.prices import PriceFileError, load_prices

__all__ = ["LEDGER", "Migration", "applied", "available", "migrate", "pending", "scratch_database",
           "allow_local_logins", "service_url", "AccountRefused", "create_user", "Difference", "rebuild_projections", "PriceFileError", "check_prices"]


def check_prices(path: str) -> None:
    """The price table the gateway will load (LONGFORM_PRICES), checked before the stack starts:
    a bad entry is named at once instead of the gateway failing to start again and again."""
    load_prices(path)


class AccountRefused(Exception):
    """The account cannot be made: the reason is for the operator to read."""


async def create_user(url: str, *, email: str, name: str, password: str, operator: bool) -> tuple[uuid.UUID, str]:
    """Makes an account that signs in with a password (the account's id and its email as stored),
    through the gateway's own access layer, so its statements and rows are in the new account's
    audit log like any other, with the password hash redacted."""
    try:
        account = SignUp(email=email, password=password, name=name)
    except ValidationError as exc:
        raise AccountRefused("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())) from None
    db = await Database.connect(url, "gateway", max_size=1)
    try:
        user_id, _ = await create_account(db, name=account.name, email=account.email, password=account.password,
                                          token_name=None, operator=operator)
    except EmailTaken:
        raise AccountRefused(f"an account with the email {account.email} already exists") from None
    finally:
        await db.close()
    return user_id, account.email


@dataclass(frozen=True)
class Difference:
    job_id: uuid.UUID
    live: JobState
    rebuilt: JobState | None


async def rebuild_projections(url: str, *, check: bool) -> list[Difference]:
    """Recomputes every job's state from audit.events; unless `check`, rewrites those that differ.
    One snapshot (repeatable read) throughout, so events the running audit service appends
    meanwhile cannot make a difference appear; a rewrite that races the audit service fails on
    its conflict rather than lose it."""
    conn = await asyncpg.connect(url, statement_cache_size=0)
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    differing = []
    try:
        async with conn.transaction(isolation="repeatable_read"):
            for row in await conn.fetch("SELECT * FROM audit.job_state ORDER BY job_id"):
                rebuilt = await rebuild_job_state(conn, row["job_id"])
                if rebuilt != state_of(row):
                    differing.append(Difference(row["job_id"], state_of(row), rebuilt))
            if differing and not check:
                await save_states(conn, [d.rebuilt for d in differing if d.rebuilt is not None])
    finally:
        await conn.close()
    return differing
