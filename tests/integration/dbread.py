"""Reading the database directly, to check what the services stored (never to change it)."""

import asyncio

import asyncpg


def fetch(database_url: str, sql: str, *args) -> list[asyncpg.Record]:
    async def run():
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())
