"""Reading the database directly, to check what the services stored (never to change it)."""

import asyncio
import json

import asyncpg


def fetch(database_url: str, sql: str, *args) -> list[asyncpg.Record]:
    async def run():
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def connected(database_url: str, work) -> None:
    """Runs `await work(conn)` on a connection that decodes jsonb as the services do."""
    async def run():
        conn = await asyncpg.connect(database_url)
        await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        try:
            await work(conn)
        finally:
            await conn.close()

    asyncio.run(run())
