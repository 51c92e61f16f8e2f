"""`longform llm-call JOB SEQ`: one LLM call of a job, whole (GET /v1/jobs/{id}/llm-calls/{seq}):
what was asked, what came back, what was cut and what was decided. SEQ is the seq of the call's
`llm.call` line in the job's audit log."""

import json
import sys

from longform_cli.client import config
from longform_cli.client.gateway import CliError, Gateway, job_id


async def llm_call(args) -> int | None:
    if args.seq < 1:
        raise CliError(f"{args.seq} is not a seq of the job's log: they count from 1")
    async with Gateway(config.load()) as gateway:
        call = (await gateway.call("GET", f"/v1/jobs/{job_id(args.job_id)}/llm-calls/{args.seq}")).json()
    sys.stdout.write(json.dumps(call, indent=2) + "\n" if args.json else as_text(call))


def as_text(call: dict) -> str:
    where = f", chunk {call['chunk_index'] + 1}" if call["chunk_index"] is not None else ""
    usage = (f"{_n(call['input_tokens'])} in / {_n(call['output_tokens'])} out tokens; {_n(call['latency_ms'])} ms"
             f" (first token {_n(call['first_token_ms'])} ms); finish {call['finish_reason'] or '-'}")
    parts = [f"LLM call at seq {call['seq']}: {call['service']}, {call['purpose']}{where}, attempt {call['attempt']}",
             f"model {call['model']} ({call['provider']}); {usage}", f"decision: {call['decision']}",
             _block("system prompt", call["system_prompt"]), _block("prompt", call["prompt"]),
             _block(f"reply ({call['words']:,} words)", call["reply"])]
    if call["cut"]:
        parts.append(_block(f"cut before counting ({call['cut_words']:,} words)", call["cut"]))
    return "\n".join(parts) + "\n"


def _block(name: str, text: str) -> str:
    return f"--- {name} ---\n{text.rstrip()}"


def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
