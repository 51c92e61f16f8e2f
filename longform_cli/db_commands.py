"""`longform db ...`: the operator applies, inspects and checks the schema; services never do.
What touches the database goes through the operator's module (services/operator.py)."""

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import AsyncIterator

import asyncpg

from longform_cli.schema_doc import Catalog, drift, read_catalog
from longform_cli.schema_render import as_markdown, as_sql, as_text
from services.operator import applied, available, migrate, pending, rebuild_projections, scratch_database

_WHERE = ("Reads the schema from a temporary database migrated to the latest version: on DATABASE_URL's "
          "server (dropped afterwards) or, without DATABASE_URL, on an embedded Postgres; nothing of yours "
          "needs to exist.")


def add_parser(commands) -> None:
    db = commands.add_parser("db", help="the database schema: print it, apply it, check it")
    sub = db.add_subparsers(dest="db_command", required=True)
    sub.add_parser("migrate", help="apply pending migrations to DATABASE_URL (safe to run twice)")
    schema = sub.add_parser("schema", help="print every table and column: type, default, constraints, owner, purpose",
                            description=_WHERE)
    shown = schema.add_mutually_exclusive_group()
    shown.add_argument("--sql", action="store_true", help="print the SQL an operator can run by hand (psql)")
    shown.add_argument("--markdown", action="store_true", help="print docs/SCHEMA.md")
    schema.add_argument("--pending", action="store_true", help="with --sql: only the migrations DATABASE_URL lacks")
    sub.add_parser("check", help="report drift between DATABASE_URL and the migrations; exit 1 on drift",
                   description="Compares DATABASE_URL with the schema of a temporary database migrated to the "
                               "latest version on the same server (dropped afterwards), and its migrations ledger "
                               "with the files' checksums.")
    rebuild = sub.add_parser("rebuild-projections", help="recompute job state from the event table")
    rebuild.add_argument("--check", action="store_true", help="only report jobs whose live state differs")


def run(args: argparse.Namespace) -> int:
    """Runs `longform db <command>`; returns the exit status."""
    if args.db_command == "migrate":
        asyncio.run(migrate_command())
    elif args.db_command == "schema":
        asyncio.run(schema_command(sql=args.sql, markdown=args.markdown, only_pending=args.pending))
    elif args.db_command == "check":
        return 1 if asyncio.run(check_command()) else 0
    elif args.db_command == "rebuild-projections":
        return 1 if asyncio.run(rebuild_command(check=args.check)) and args.check else 0
    return 0


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("set DATABASE_URL to the database to work on")
    return url


async def migrate_command() -> None:
    url = _database_url()
    applied = await migrate(url)
    for m in applied:
        print(f"applied {m.label}")
    print("schema is current" if not await pending(url) else "migrations still pending")


@contextlib.asynccontextmanager
async def _server() -> AsyncIterator[str]:
    """DATABASE_URL's server, or an embedded Postgres for as long as the command runs."""
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    try:  # only this path needs the bundled server: the `embedded` extra
        from longform_cli.embedded import EmbeddedPostgres
    except ImportError as missing:
        sys.exit(f"without DATABASE_URL this command reads the schema on a scratch Postgres from the `embedded` "
                 f"extra ({missing.name} is not installed): pip install 'longform[embedded]', or set DATABASE_URL")

    home = Path(tempfile.mkdtemp(prefix="longform-schema-"))
    server = EmbeddedPostgres(home, fast=True)
    try:
        yield await asyncio.to_thread(server.start)
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(home, ignore_errors=True)


async def migrations_catalog(server_url: str) -> Catalog:
    """The schema the migrations define, read from a scratch database on `server_url`'s server."""
    try:
        async with scratch_database(server_url) as url:
            return await read_catalog(url)
    except asyncpg.InsufficientPrivilegeError as exc:
        sys.exit(f"reading the migrations' schema needs a temporary database on DATABASE_URL's server ({exc}): "
                 "use the owner's URL (on Neon the owner may create databases), or unset DATABASE_URL for "
                 "`db schema`, which then uses an embedded Postgres")


async def schema_command(*, sql: bool = False, markdown: bool = False, only_pending: bool = False) -> None:
    if sql:
        print(as_sql(await pending(_database_url()) if only_pending else available()), end="")
        return
    async with _server() as server_url:
        catalog = await migrations_catalog(server_url)
    print(as_markdown(catalog) if markdown else as_text(catalog), end="" if markdown else "\n")


async def migration_drift(url: str) -> list[str]:
    """Migrations missing, modified since they were applied (checksum), or unknown to this code."""
    recorded = await applied(url)
    files = {m.version: m for m in available()}
    found = [f"migration {m.label} not applied (run `longform db migrate`)"
             for v, m in files.items() if v not in recorded]
    found += [f"migration {m.label} was modified after it was applied (checksum {recorded[v][:12]}... in the "
              f"database, {m.checksum[:12]}... in the file)" for v, m in files.items() if v in recorded
              and recorded[v] != m.checksum]
    return found + [f"migration {v:04d} is applied but not in migrations/ (newer code?)" for v in recorded
                    if v not in files]


async def check_command() -> list[str]:
    """Prints and returns every difference between DATABASE_URL and the migrations."""
    url = _database_url()
    found = await migration_drift(url)
    found += drift(await read_catalog(url), await migrations_catalog(url))
    for line in found:
        print(line)
    print(f"{len(found)} difference(s) from the migrations" if found else "schema matches the migrations")
    return found


async def rebuild_command(*, check: bool) -> int:
    """Recomputes every job's state from audit.events; with --check only reports differences.
    Returns how many jobs differed from the live projection."""
    differing = await rebuild_projections(_database_url(), check=check)
    for d in differing:
        print(f"{d.job_id}: live {d.live} != rebuilt {d.rebuilt}")
    print(f"{len(differing)} job(s) differed" + ("" if check or not differing else "; rewritten from the events"))
    return len(differing)
