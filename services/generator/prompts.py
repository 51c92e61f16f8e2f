"""Prompt templates live in files beside this module; this fills them in."""

import re
from functools import cache
from pathlib import Path

from contracts.messages import WriteChunk
from services.generator.memory import Memory

_DIR = Path(__file__).parent / "prompts"
_TASKS = {
    "generate": "Write the next part of the document.",
    "rewrite": "Rework the source passage above into this part of the new document, following what the "
               "user asked for, keeping its substance and order.",
    "analyze": "Write the next part of the report the user asked for, about the source, from the notes above: "
               "argue from what the passages say, and cite each passage you draw on as (§N), with its number "
               "from the notes.",
}


@cache
def template(name: str) -> str:
    return (_DIR / f"{name}.txt").read_text()


def last_words(text: str, count: int) -> str:
    return " ".join(text.split()[-count:])


def _handoff(cmd: WriteChunk) -> str:
    lines = [f"Before this section: {cmd.handoff_in}" if cmd.handoff_in else "",
             f"After this section: {cmd.handoff_out}" if cmd.handoff_out else ""]
    return "\n".join(line for line in lines if line)


def job_block(cmd: WriteChunk, memory: Memory) -> str:
    """The head of every chunk prompt of a job, identical across its calls: a provider's prompt
    cache reuses it."""
    style = f"Style sheet: {memory.style}\n" if memory.style else ""
    return template("job").format(title=cmd.title, instructions=cmd.instructions, style_line=style)


def _whole(cmd: WriteChunk) -> bool:
    """A new text of one chunk: its plan has nothing to say beyond the job's own block."""
    return cmd.chunk_index == 0 and cmd.last and cmd.mode == "generate" and not cmd.source_text


def _context(cmd: WriteChunk, memory: Memory, continuing: bool) -> str:
    """Empty parts of the state are left out: every line a prompt carries is one more line a
    model that echoes its prompt echoes (and one more the provider bills). A chunk under way
    (`continuing`) carries its names but not the summary of the document before it: its own
    draft was written from that summary, and a chunk's later calls were most of its input."""
    if _whole(cmd):
        return job_block(cmd, memory)
    block = "analysis_block" if cmd.mode == "analyze" else "source_block"
    source = template(block).format(source=cmd.source_text) if cmd.source_text else ""
    if continuing:
        blocks = template("ledger_block").format(ledger=memory.ledger) if memory.ledger else ""
    elif memory.summary:
        ledger = template("ledger_block").format(ledger=memory.ledger or "(none yet)")
        blocks = template("memory_blocks").format(summary=memory.summary, ledger_block=ledger)
    else:
        blocks = ""
    return job_block(cmd, memory) + template("context").format(
        position=cmd.position or "the next part", section_title=cmd.section_title, brief=cmd.brief,
        handoff=f"{_handoff(cmd)}\n" if _handoff(cmd) else "", memory_blocks=blocks, source_block=source,
    )


def chunk_prompt(cmd: WriteChunk, memory: Memory, *, tail: str, written: str, remaining: int,
                 tail_words: int) -> str:
    """The first call of a chunk sees the previous chunk's tail; continuations see their own. The
    text to carry on from comes last, so a base model that merely continues its prompt carries
    on from it (and one that echoes the prompt echoes the scaffolding first, which is cut)."""
    text = last_words(written or tail, tail_words)
    name = "continue" if written else "chunk" if text else "whole" if _whole(cmd) else "begin"
    prompt = template(name).format(context=_context(cmd, memory, continuing=bool(written)), task=_TASKS[cmd.mode],
                                   tail=text, words=remaining)
    return re.sub(r"\n{3,}", "\n\n", prompt)


def lean_prompt(cmd: WriteChunk, *, tail: str, written: str, remaining: int, tail_words: int) -> str:
    """For a model that echoes the full prompt (services/generator/echoes.py): the request, the
    section's brief (so sections written at once differ), the title, the source passage of a
    rewrite, and the text to carry on from; no state blocks."""
    instructions = " ".join(cmd.instructions.split()).rstrip(".")
    fields = {"words": remaining, "instructions": instructions, "title": cmd.title, "brief": cmd.brief,
              "tail": last_words(written or tail, tail_words)}
    if cmd.source_text:
        lean = "lean_analyze" if cmd.mode == "analyze" else "lean_rewrite"
        return template(lean).format(source=cmd.source_text, **fields).strip()
    return template("lean").format(**fields).strip()
