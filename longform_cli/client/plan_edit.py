"""`longform plan JOB --edit`: the outline of a job awaiting review as YAML in $EDITOR, sent back
with PUT /v1/jobs/{id}/plan. A refusal (422) is shown and the user edits again or gives up."""

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from longform_cli.client.gateway import CliError, Gateway, detail_of

HEADER = """\
# The outline of job {job_id} (target {target:,} words; budgets must sum to at least that).
# Rename, reorder, add (no index), remove sections; change briefs and budgets (each >= 1 word).
# A node with `sections` is a part; its title may change too. Save and quit to send it.
"""


def editable(nodes: list[dict]) -> list[dict]:
    """The tree without its figures: what the owner may change."""
    out = []
    for node in nodes:
        if "sections" in node:
            out.append({"title": node["title"], "sections": editable(node["sections"])})
        else:
            out.append({"index": node["index"], "title": node["title"], "budget_words": node["budget_words"],
                        "brief": node["brief"]})
    return out


def _edited(text: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False, encoding="utf-8") as file:
        file.write(text)
    path = Path(file.name)
    try:
        editor = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
        if subprocess.run([*editor, str(path)]).returncode != 0:
            raise CliError("the editor exited with an error: the plan is unchanged")
        return path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)


def _parsed(text: str) -> list[dict]:
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not YAML: {exc}") from None
    if not isinstance(tree, list):
        raise ValueError("the outline must be a list of sections")
    return tree


def _again(problem: str) -> bool:
    print(f"refused: {problem}", file=sys.stderr)
    if not sys.stdin.isatty():
        raise CliError(f"the plan was not changed: {problem}")
    return input("Edit again? [Y/n] ").strip().lower() != "n"


async def edit(gateway: Gateway, job: str) -> str:
    plan = (await gateway.call("GET", f"/v1/jobs/{job}/plan")).json()
    if plan["state"] != "awaiting_review":
        raise CliError(f"only a plan awaiting review can be edited: this one is {plan['state'] or 'not made yet'}"
                       " (submit with --review-plan)")
    text = HEADER.format(job_id=job, target=plan["target_words"]) + yaml.safe_dump(
        editable(plan["sections"]), sort_keys=False, allow_unicode=True, width=100)
    while True:
        text = _edited(text)
        try:
            tree = _parsed(text)
        except ValueError as problem:
            if _again(str(problem)):
                continue
            raise CliError("not edited") from None
        answer = await gateway.http.put(f"/v1/jobs/{job}/plan", json={"sections": tree})
        if answer.status_code == 202:
            return f"{job} plan sent: `longform plan {job}` shows it once the planner has rechunked it"
        if answer.status_code != 422 or not _again(detail_of(answer)):
            raise CliError(f"the gateway refused the plan ({answer.status_code}): {detail_of(answer)}")

