"""`longform login | submit | jobs | status | plan | approve | document | audit | cancel | resume | delete`.
Results go to stdout (a job id, a table, a document, an audit log), progress and messages to
stderr; any failure is one line on stderr and a non-zero exit code."""

import argparse
import asyncio
import getpass
import json
import socket
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from contracts.auditlog import ChainCheck, text_line
from longform_cli.client import config, costs, plan_edit
from longform_cli.client.calls import llm_call
from longform_cli.client.follow import Follower
from longform_cli.client.outline import outline_lines
from longform_cli.client.gateway import CliError, Gateway, job_id
from longform_cli.client.progress import JobProgress

CSRF = {"X-Longform-CSRF": "1"}
_out = Console(width=None if sys.stdout.isatty() else 200, highlight=False)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_COMMANDS[args.command](args)) or 0
    except CliError as error:
        _err.print(f"longform: error: {error}", markup=False)
        return error.code
    except KeyboardInterrupt:
        return 130


def _ask(prompt: str, given: str | None, default: str | None = None) -> str:
    if given:
        return given
    suffix = f" [{default}]" if default else ""
    answer = input(f"{prompt}{suffix}: ").strip() or (default or "")
    if not answer:
        raise CliError(f"{prompt.lower()} is needed")
    return answer


def _password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass("Password: ")


async def login(args) -> int | None:
    url = _ask("Gateway URL", args.url, config.load().url).rstrip("/")
    email = _ask("Email", args.email)
    password = _password(args.password_stdin)
    async with Gateway(config.Credentials(url, None), signed_in=False) as gateway:
        await gateway.call("POST", "/v1/session", json={"email": email, "password": password})
        created = await gateway.call("POST", "/v1/tokens", json={"name": f"longform CLI on {socket.gethostname()}"},
                                     headers=CSRF)
        await gateway.call("DELETE", "/v1/session")  # the CLI keeps its token, not a page session
    path = config.save(config.Credentials(url, created.json()["token"]))
    _err.print(f"signed in to {url} as {email}; token saved in {path}", markup=False)


async def submit(args) -> int | None:
    """With --dry-run, what the job would cost instead (the server stores nothing)."""
    return await (_estimate(args) if args.dry_run else _submitted(args))


def _job_fields(args) -> dict:
    fields = {"mode": args.mode or ("rewrite" if args.source else "generate"), "title": args.title,
              "instructions": args.instructions, "target_words": args.target, "headings": args.headings}
    if args.model:
        fields["model"] = args.model
    if args.review_plan:
        fields["review_plan"] = "true" if args.source else True
    return fields


async def _post_job(gateway: Gateway, args, **params):
    fields = _job_fields(args)
    if args.source:
        upload = {"source": (args.source.name, _read(args.source), "application/octet-stream")}
        return await gateway.call("POST", "/v1/jobs", data={k: str(v) for k, v in fields.items()}, files=upload,
                                  params=params)
    return await gateway.call("POST", "/v1/jobs", json=fields, params=params)


async def _estimate(args) -> None:
    """`submit --dry-run`: the server checks the job and answers what it would cost; nothing is stored."""
    async with Gateway(config.load()) as gateway:
        estimate = (await _post_job(gateway, args, dry_run="true")).json()
    _out.print(costs.estimate_table(estimate), markup=False)
    _err.print(f"an estimate, nothing submitted: {estimate['not_counted']}", markup=False)


async def _submitted(args) -> int | None:
    async with Gateway(config.load()) as gateway:
        accepted = (await _post_job(gateway, args)).json()
        submitted = accepted["id"]
        _out.print(submitted, markup=False)
        if accepted["status"] == "queued":
            _err.print(f"queued: number {accepted['queue_place']} in your queue; it starts when one of your"
                       " running jobs ends", markup=False)
        if args.review_plan:
            _err.print(f"the job stops once planned: `longform plan {submitted} --edit` to review it,"
                       f" `longform approve {submitted}` to start writing", markup=False)
        if not args.follow or args.review_plan:
            return 0
        title = args.title or (await gateway.job(submitted))["title"]  # named from the instructions
        with JobProgress(_err, title, args.target) as progress:
            final = await Follower(gateway, submitted, progress.show_line, progress.show_state).run()
    return _ended(final)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def _ended(state: dict) -> int:
    words = f"{state['words']:,}/{state['target_words']:,} words"
    if state.get("heading_words"):
        words += f" (+{state['heading_words']:,} in headings)"
    if state["status"] == "completed":
        _err.print(f"completed: {words}; `longform document {state['id']}` downloads it", markup=False)
        return 0
    _err.print(f"{state['status']}: {words}" + (f"; {state['error']}" if state.get("error") else "")
               + f"; `longform resume {state['id']}` continues it", markup=False)
    return 1


async def jobs(args) -> int | None:
    async with Gateway(config.load()) as gateway:
        params = {"limit": args.limit} | ({"before": args.before} if args.before else {})
        page = (await gateway.call("GET", "/v1/jobs", params=params)).json()
    table = Table("id", "status", "words", "chunks", "created", "title", box=None)
    for job in page["jobs"]:
        table.add_row(job["id"], _status(job), f"{job['words']:,}/{job['target_words']:,}",
                      f"{job['chunks_done']}/{job['chunks_total']}", job["created_at"][:19], job["title"])
    _out.print(table if page["jobs"] else "no jobs yet", markup=False)
    if page["next_before"]:
        _err.print(f"older jobs: longform jobs --before {page['next_before']}", markup=False)


def _status(job: dict) -> str:
    return f"queued #{job['queue_place']}" if job["status"] == "queued" and job.get("queue_place") else job["status"]


async def status(args) -> int | None:
    async with Gateway(config.load()) as gateway:
        job = await gateway.job(job_id(args.job_id))
    shown = {**job, "cost_usd": costs.usd(job.get("cost_usd")),
             "tokens_by_model": costs.by_model(job.get("tokens_by_model")), "elapsed": _elapsed(job)}
    for key, value in shown.items():
        _out.print(f"{key:<13} {value if value is not None else '-'}", markup=False)


def _elapsed(job: dict) -> timedelta:
    """From acceptance to the end, or to now while the job runs (whole seconds)."""
    end = datetime.fromisoformat(job["ended_at"]) if job["ended_at"] else datetime.now(timezone.utc)
    return timedelta(seconds=round((end - datetime.fromisoformat(job["created_at"])).total_seconds()))


async def document(args) -> int | None:
    if args.format == "docx" and args.output is None and sys.stdout.isatty():
        raise CliError("a docx document is binary: write it to a file with -o FILE")
    async with Gateway(config.load()) as gateway:
        async with gateway.download(f"/v1/jobs/{job_id(args.job_id)}/document", format=args.format,
                                    partial=str(args.partial).lower()) as answer:
            written = await _write(answer, args.output)
    if args.output:
        _err.print(f"wrote {written:,} bytes to {args.output}", markup=False)


async def _write(answer, output: Path | None) -> int:
    written = 0
    sink = open(output, "wb") if output else sys.stdout.buffer
    try:
        async for block in answer.aiter_bytes():
            sink.write(block)
            written += len(block)
    finally:
        sink.flush()
        if output:
            sink.close()
    return written


async def audit(args) -> int | None:
    match args.target:
        case ["verify", job]:
            return await verify(job_id(job))
        case ["system"]:
            async with Gateway(config.load()) as gateway, \
                    gateway.download("/v1/system/audit", format=args.format) as answer:
                await _write(answer, None)
            return 0
        case [job]:
            job = job_id(job)
        case _:
            raise CliError("usage: longform audit JOB_ID, longform audit verify JOB_ID, or longform audit system")
    async with Gateway(config.load()) as gateway:
        if not args.follow:
            async with gateway.download(f"/v1/jobs/{job}/audit", format=args.format) as answer:
                await _write(answer, None)
            return 0
        if args.format == "json":
            raise CliError("--follow prints line by line: use --format ndjson or txt")
        show = text_line if args.format == "txt" else lambda line: json.dumps(line, ensure_ascii=False)
        await Follower(gateway, job, lambda line: print(show(line), flush=True)).run()


async def verify(job: str) -> int:
    """Downloads the job's log and recomputes its hash chain here (trusting nothing the server says
    about it), then checks it reaches the head the server keeps: exit 0 intact, 1 broken."""
    check = ChainCheck()
    async with Gateway(config.load()) as gateway:
        head = (await gateway.call("GET", f"/v1/jobs/{job}/audit/verify")).json()
        async with gateway.download(f"/v1/jobs/{job}/audit", format="ndjson") as answer:
            async for text in answer.aiter_lines():
                line = json.loads(text)
                if line["seq"] <= (head["head_seq"] or 0):  # events after the head noted are newer
                    check.feed([line])
    verdict = check.verdict(bytes.fromhex(head["head"]) if head["head_seq"] else None, head["head_seq"])
    if not verdict.intact:
        _out.print(f"{job}: chain broken at seq {verdict.first_bad_seq}: {verdict.reason}", markup=False)
        return 1
    _out.print(f"{job}: chain intact, {verdict.events} events, head {verdict.head} (seq {head['head_seq']})",
               markup=False)
    return 0


async def _request(args, action: str, done: str) -> None:
    async with Gateway(config.load()) as gateway:
        answer = (await gateway.call("POST", f"/v1/jobs/{job_id(args.job_id)}/{action}")).json()
    _out.print(f"{answer['id']} {done}", markup=False)


async def cancel(args) -> int | None:
    return await _request(args, "cancel", "cancelling: what is written is kept")


async def resume(args) -> int | None:
    return await _request(args, "resume", "resuming from its first unfinished chunk")


async def delete(args) -> int | None:
    job = job_id(args.job_id)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError("deleting erases the job for good: add --yes to delete without a question")
        if input(f"Erase job {job}, its document and its audit log for good? [y/N] ").strip().lower() != "y":
            raise CliError("not deleted")
    async with Gateway(config.load()) as gateway:
        await gateway.call("DELETE", f"/v1/jobs/{job}")
    _out.print(f"{job} deleted", markup=False)


async def plan(args) -> int | None:
    async with Gateway(config.load()) as gateway:
        if args.edit:
            _err.print(await plan_edit.edit(gateway, job_id(args.job_id)), markup=False)
            return 0
        answer = (await gateway.call("GET", f"/v1/jobs/{job_id(args.job_id)}/plan")).json()
    for line in outline_lines(answer):
        _out.print(line, markup=False)


async def approve(args) -> int | None:
    return await _request(args, "approve", "approved: writing starts")


_COMMANDS = {"login": login, "submit": submit, "jobs": jobs, "status": status, "plan": plan, "approve": approve,
             "document": document,
             "audit": audit, "cancel": cancel, "resume": resume, "delete": delete, "llm-call": llm_call}
