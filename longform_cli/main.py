"""`longform`: the command line. Subcommands live in their own modules; this only parses."""

import argparse
import asyncio
import os
import sys
from pathlib import Path

from longform_cli import db_commands


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="longform", description="Very long documents from LLMs, with proof.")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run the whole stack on this machine (embedded Postgres and NATS)")
    up.add_argument("--port", type=int, default=8080, help="gateway port (default 8080)")
    up.add_argument("--home", type=Path, default=Path(os.environ.get("LONGFORM_HOME", ".longform")))
    up.add_argument("--demo", action="store_true", help="run a sample job to completion, then stop")
    up.add_argument("--demo-words", type=int, default=5000, help="target of the sample job")
    db = commands.add_parser("db", help="the database schema: print it, apply it")
    db_commands_ = db.add_subparsers(dest="db_command", required=True)
    db_commands_.add_parser("migrate", help="apply pending migrations to DATABASE_URL")
    schema = db_commands_.add_parser("schema", help="print every table and column")
    schema.add_argument("--sql", action="store_true", help="print the SQL an operator can run by hand")
    rebuild = db_commands_.add_parser("rebuild-projections", help="recompute job state from the event table")
    rebuild.add_argument("--check", action="store_true", help="only report jobs whose live state differs")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "up":
        from longform_cli.up import UpOptions, run_up  # embedded servers: only this command needs them

        sys.exit(run_up(UpOptions(home=args.home.resolve(), port=args.port, demo=args.demo,
                                  demo_words=args.demo_words)))
    if args.db_command == "migrate":
        asyncio.run(db_commands.migrate_command())
    elif args.db_command == "schema":
        asyncio.run(db_commands.schema_command(sql=args.sql))
    elif args.db_command == "rebuild-projections":
        sys.exit(1 if asyncio.run(db_commands.rebuild_command(check=args.check)) and args.check else 0)
