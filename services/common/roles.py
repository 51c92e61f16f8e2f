"""The database role each service connects as (migrations/0009_roles.sql makes them; each may read
another's data only through the views and functions that service publishes for it, 0023). In
production an operator grants each role to a login role and gives the service its own
DATABASE_URL; the local stack and the tests let the roles log in themselves."""

import asyncio
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from services.common.retry import OUTAGE

# Local only (the embedded server trusts 127.0.0.1 anyway); production never uses it.
LOCAL_PASSWORD = "longform-local"


def role_of(service: str) -> str:
    return f"longform_{service}"


def service_url(owner_url: str, service: str, password: str = LOCAL_PASSWORD) -> str:
    """The owner's URL with the service's role as the user."""
    parts = urlsplit(owner_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{role_of(service)}:{quote(password, safe='')}@{host}"))


async def allow_local_logins(owner_url: str, services: tuple[str, ...], password: str = LOCAL_PASSWORD) -> None:
    conn = await asyncpg.connect(owner_url, statement_cache_size=0)
    try:
        literal = await conn.fetchval("SELECT quote_literal($1)", password)
        for service in services:
            await _altered(conn, f"ALTER ROLE {role_of(service)} LOGIN PASSWORD {literal}")
    finally:
        await conn.close()


async def _altered(conn: asyncpg.Connection, statement: str, attempts: int = 5) -> None:
    """Roles belong to the whole server: two databases of one server prepared at once (test
    workers) alter the same role, and Postgres refuses the second ("tuple concurrently updated")
    rather than wait; it is done again after a pause."""
    for attempt in range(1, attempts + 1):
        try:
            await conn.execute(statement)
            return
        except asyncpg.InternalServerError as error:
            if "concurrently updated" not in str(error) or attempt == attempts:
                raise
            await asyncio.sleep(OUTAGE.delay(attempt))
