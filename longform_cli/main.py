"""`longform`: the command line. Subcommands live in their own modules; this only parses."""

import argparse
import asyncio
import os
import sys
from pathlib import Path

from longform_cli import db_commands

_ID = "the job's id"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="longform", description="Very long documents from LLMs, with proof.")
    commands = parser.add_subparsers(dest="command", required=True)
    _operator_commands(commands)
    _client_commands(commands)
    return parser


def _operator_commands(commands) -> None:
    up = commands.add_parser("up", help="run the whole stack on this machine (embedded Postgres and NATS)")
    up.add_argument("--port", type=int, default=8080, help="gateway port (default 8080)")
    up.add_argument("--home", type=Path, default=Path(os.environ.get("LONGFORM_HOME", ".longform")))
    up.add_argument("--demo", action="store_true", help="run a sample job to completion, then stop")
    up.add_argument("--demo-words", type=int, default=5000, help="target of the sample job")
    db_commands.add_parser(commands)
    users = commands.add_parser("users", help="accounts, for operators (on DATABASE_URL)")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    create = users_commands.add_parser("create", help="create an account that signs in with a password")
    create.add_argument("--email", required=True)
    create.add_argument("--name", default="")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.add_argument("--operator", action="store_true", help="may read the system log (longform audit system)")


def _client_commands(commands) -> None:
    login = commands.add_parser("login", help="sign in to a gateway and keep an API token for this CLI")
    login.add_argument("--url", help="the gateway's URL (asked if not given)")
    login.add_argument("--email", help="asked if not given")
    login.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    submit = commands.add_parser("submit", help="submit a job (with --follow: progress bar and live audit)")
    submit.add_argument("--target", type=int, required=True, help="target length in words")
    submit.add_argument("--mode", choices=("generate", "rewrite", "analyze"), help="default: rewrite with --source")
    submit.add_argument("--title", default="", help="default: named from the instructions' first sentence")
    submit.add_argument("--instructions", required=True)
    submit.add_argument("--source", type=Path, help="the document to rewrite or analyze (.txt, .md or .docx)")
    submit.add_argument("--model")
    submit.add_argument("--no-headings", dest="headings", action="store_false",
                        help="flat prose: no headings from the outline (a story, a letter)")
    submit.add_argument("--review-plan", action="store_true",
                        help="stop after planning: review with `plan JOB --edit`, then `approve JOB`")
    submit.add_argument("--follow", action="store_true", help="show progress and the audit log until the job ends")
    submit.add_argument("--dry-run", action="store_true",
                        help="submit nothing: the server checks the job and prints its LLM calls, tokens and cost estimate")
    jobs = commands.add_parser("jobs", help="your jobs, newest first")
    jobs.add_argument("--limit", type=int, default=50)
    jobs.add_argument("--before", metavar="CURSOR", help="the next (older) page, as the previous page named it")
    commands.add_parser("status", help="one job's state").add_argument("job_id", help=_ID)
    plan = commands.add_parser("plan", help="a job's plan: its sections with what is written of each")
    plan.add_argument("job_id", help=_ID)
    plan.add_argument("--edit", action="store_true", help="edit the outline of a job awaiting review in $EDITOR")
    commands.add_parser("approve", help="approve a plan awaiting review: writing starts").add_argument(
        "job_id", help=_ID)
    document = commands.add_parser("document", help="download a completed job's document (--partial: so far)")
    document.add_argument("job_id", help=_ID)
    document.add_argument("--format", choices=("txt", "md", "docx"), default="txt")
    document.add_argument("-o", "--output", type=Path, help="write to this file (default: stdout; docx needs -o)")
    document.add_argument("--partial", action="store_true",
                          help="what is written so far, in any status, marked as partial")
    audit = commands.add_parser("audit", help="a job's audit log; `audit verify JOB` checks its hash chain;"
                                              " `audit system` is the operators' system log")
    audit.add_argument("target", nargs="+", metavar="[verify] JOB_ID | system",
                       help=f"{_ID}; with `verify` first, the log is downloaded and its chain recomputed here")
    audit.add_argument("--format", choices=("ndjson", "json", "txt"), default="ndjson")
    audit.add_argument("--follow", action="store_true", help="keep printing new lines until the job ends")
    call = commands.add_parser("llm-call", help="one LLM call of a job, whole: prompt, reply, what was cut, decision")
    call.add_argument("job_id", help=_ID)
    call.add_argument("seq", type=int, help="the seq of its llm.call line in the job's audit log")
    call.add_argument("--json", action="store_true", help="print the API's JSON")
    for name, help_ in (("cancel", "stop a job (what is written is kept)"),
                        ("resume", "continue a failed or cancelled job")):
        commands.add_parser(name, help=help_).add_argument("job_id", help=_ID)
    delete = commands.add_parser("delete", help="erase a job: its document, chunks and audit log")
    delete.add_argument("job_id", help=_ID)
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "up":
        from longform_cli.up import UpOptions, run_up  # embedded servers: only this command needs them

        sys.exit(run_up(UpOptions(home=args.home.resolve(), port=args.port, demo=args.demo,
                                  demo_words=args.demo_words)))
    if args.command == "db":
        sys.exit(db_commands.run(args))
    elif args.command == "users":
        from longform_cli.users import create_user_command

        asyncio.run(create_user_command(email=args.email, name=args.name, password_stdin=args.password_stdin,
                                        operator=args.operator))
    else:
        from longform_cli.client.commands import run

        sys.exit(run(args))
