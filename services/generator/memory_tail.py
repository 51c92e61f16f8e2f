"""The running summary written with the chunk (issue 19): the writer's reply ends with a
delimited tail (`@@MEMORY@@`, a GIST: line and NAMES: lines) that is cut before the text is
judged or stored, and folded into the memory without a call of its own. A reply with no usable
tail has its chunk summarised as before (a provider that ignores the format), or folded in code
when the reply ran into its max_tokens first: asking a call then would cost more than the cap
saved (services/generator/token_rates.py)."""

import re
from dataclasses import dataclass

from contracts.wordcount import count_words

MARKER = "@@MEMORY@@"
CUT_BEFORE_TAIL = "cut short before its memory tail"
TAIL_CUT = "memory tail cut short"
TRUNCATIONS = (CUT_BEFORE_TAIL, TAIL_CUT)
_MARKER = re.compile(r"^[ \t*#>_`-]*@@\s*MEMORY\s*@@[ \t*_`]*$", re.I | re.M)
_GIST = re.compile(r"^\s*\**GIST\**\s*:\**\s*(.*?)(?=^\s*\**NAMES\**\s*:|\Z)", re.I | re.M | re.S)
_NAMES = re.compile(r"^\s*\**NAMES\**\s*:\**(.*)\Z", re.I | re.M | re.S)
_ENTRY = re.compile(r"^\s*[-*•]\s*([^:\n]{1,80}):\s*(\S.*?)\s*$", re.M)


@dataclass(frozen=True)
class Tail:
    """What a reply held after its text: the gist and ledger lines, or why none is usable."""

    gist: str = ""
    names: str = ""
    words: int = 0  # the tail's words, marker included: written, paid for, never in the document
    missing: str = ""  # why the reply gave no usable gist; "" when it did


def split_reply(text: str, *, truncated: bool) -> tuple[str, Tail]:
    """The reply's text without its tail, and the tail. A reply without the marker is all text."""
    found = _MARKER.search(text)
    if found is None:
        return text, Tail(missing=CUT_BEFORE_TAIL if truncated else "no memory tail")
    body, rest = text[:found.start()].rstrip(), text[found.end():]
    words = count_words(text[found.start():])
    gist = _GIST.search(rest)
    gist_text = " ".join(gist.group(1).split()) if gist else ""
    if truncated or not gist_text:
        why = TAIL_CUT if truncated else "memory tail without a GIST line"
        return body, Tail(words=words, missing=why)
    names = _NAMES.search(rest)
    entries = _ENTRY.findall(names.group(1)) if names else []
    return body, Tail(gist_text, "\n".join(f"- {n.strip()}: {d}" for n, d in entries), words)
