"""Every refusal of a request's content (413, 415, 422) carries, beside the machine fields of
`detail` (FastAPI's shape: type, loc, msg), one plain sentence for people in `message`: what is
wrong and what to do, in a writer's words ("The source is over this server's limit of 8 MB.
Split it or condense it first."). The page shows it; scripts read `detail`."""

import re

from contracts.messages import MAX_TARGET_WORDS

_NUMBER = re.compile(r"\d+")
_LIMIT = re.compile(r"limit of (\d+)|max_source_bytes is (\d+)")
_FIELD_SENTENCES = {
    "target_words": f"The target must be a whole number of words from 1 to {MAX_TARGET_WORDS:,}.",
    "headings": "Headings must be true or false.",
    "mode": "Choose a mode: generate (from the instructions), rewrite (a source to rework) or analyze (a report on a"
            " source).",
    "title": "The title is too long: at most 300 characters.",
    "model": "The model name is too long: at most 200 characters.",
}


def sentence(status: int, errors: list[dict]) -> str:
    """The first problem, said plainly."""
    if not errors:
        return "The request was refused."
    error = errors[0]
    loc = [str(part) for part in error.get("loc", ())]
    field, kind, msg = (loc[1] if len(loc) > 1 else ""), error.get("type", ""), str(error.get("msg", ""))
    if kind == "too_large" and not field and (cap := _LIMIT.search(msg)):
        return body_too_large(int(cap.group(1) or cap.group(2)))
    if field in ("source", "source_text") or kind in ("too_large", "media_type"):
        return _about_source(status, kind, msg)
    if kind.startswith("json") or kind in ("model_type", "model_attributes_type", "dict_type"):
        return "The request is not a job: send a JSON object (or a form) with mode, instructions and target_words."
    if kind == "extra_forbidden":
        return f"“{field}” is not a field of a job: leave it out."
    if kind == "missing":
        return f"The {field.replace('_', ' ')} is missing: every job needs its mode, instructions and target words."
    if field == "instructions":
        return ("Write the instructions: they are empty." if kind in ("string_too_short", "value_error")
                and "NUL" not in msg else f"The instructions cannot be used: {msg}.")
    return _FIELD_SENTENCES.get(field) or f"{field.replace('_', ' ').capitalize() or 'The request'}: {msg}."


def _about_source(status: int, kind: str, msg: str) -> str:
    if "needs a source" in msg:
        what = {"rewrite": "A rewrite", "analyze": "An analysis"}.get(msg.split()[1] if msg.startswith("mode ") else "",
                                                                       "This mode")
        return f"{what} needs a source: paste the text or choose a file (.txt, .md or .docx)."
    if status == 415 or kind == "media_type":
        return "Only .txt, .md and .docx files can be a source."
    if status == 413:
        cap = _LIMIT.search(msg)
        limit = f" of {_size(int(cap.group(1) or cap.group(2)))}" if cap else ""
        return f"The source is over this server's limit{limit}. Split it or condense it first."
    if "words; the limit is" in msg:
        words, limit = (int(n) for n in _NUMBER.findall(msg)[:2])
        return f"The source has {words:,} words; the limit is {limit:,}. Split it first."
    if "empty" in msg:
        return "The source is empty: paste the text or choose a file."
    return f"The source cannot be read as text: {msg}."


def body_too_large(limit: int) -> str:
    return f"The request is over this server's limit of {_size(limit)}. A source must be smaller still."


def _size(size: int) -> str:
    for unit, scale in (("MB", 1_048_576), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{size:,} bytes"
