"""Prompt templates live in files beside this module; this fills them in."""

from functools import cache
from pathlib import Path

from contracts.messages import WriteChunk

_DIR = Path(__file__).parent / "prompts"


@cache
def template(name: str) -> str:
    return (_DIR / f"{name}.txt").read_text()


def last_words(text: str, count: int) -> str:
    words = text.split()
    return " ".join(words[-count:])


def chunk_prompt(cmd: WriteChunk, *, tail: str, written: str, remaining: int, tail_words: int) -> str:
    """The first call of a chunk sees the previous chunk's tail; continuations see their own."""
    name = "continue" if written else "chunk"
    return template(name).format(
        title=cmd.title, instructions=cmd.instructions, position=cmd.position or "the next part",
        section_title=cmd.section_title, brief=cmd.brief,
        tail=last_words(written or tail, tail_words) or "(this is the very beginning of the document)",
        words=remaining,
    )
