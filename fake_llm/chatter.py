"""What a chatty model wraps around its text: a preamble, a closing remark, an echo of the
prompt, a chat-template token, a stray label, a heading of its own (the section's title from the
prompt, as `## Title`, `**Title**` or `Chapter 2: Title`). Which appear is drawn per request; a param of 1
forces one, 0 leaves it out."""

import random
import re

from fake_llm.behaviours import Behaviour

PREAMBLES = ("Sure! Here is the next part of the document:", "Certainly. Below is the continuation you asked for:",
             "Here's the next part, as requested:", "Of course! Here is the text:")
CLOSINGS = ("I hope this helps! Let me know if you would like any changes.",
            "Let me know if you want me to continue.", "Feel free to ask for another version.")
TEMPLATE_TOKENS = ("<end_of_turn>", "<|im_end|>", "<start_of_turn>model", "### Response:")
DEFAULTS = {"preamble": 0.7, "closing": 0.5, "echo": 0.4, "template": 0.4, "label": 0.3, "heading": 0.3}
HEADING_FORMS = ("## {}", "**{}**", "Chapter {n}: {}", "### {n}. {}")
_SECTION = re.compile(r'in "([^"\n]+)"\.')


def chattered(text: str, prompt: str, chatty: Behaviour, rng: random.Random) -> str:
    """The text inside the decorations drawn for it, in the order a chatty model writes them:
    template token, echoed prompt lines, preamble, stray label, text, closing, template token."""
    hit = {name: rng.random() < chatty.param(name, chance) for name, chance in DEFAULTS.items()}
    before, after = [], []
    if hit["template"]:
        before.append("<start_of_turn>model")
        after.append(rng.choice(TEMPLATE_TOKENS))
    if hit["echo"]:
        before.append(_echo(prompt, rng))
    if hit["preamble"]:
        before.append(rng.choice(PREAMBLES))
    if hit["label"]:
        before.append("SUMMARY:")
    if hit["heading"]:
        before.append(_heading(prompt, rng))
    if hit["closing"]:
        after.insert(0, rng.choice(CLOSINGS))
    return "\n\n".join([*filter(None, before), text, *after])


def _heading(prompt: str, rng: random.Random) -> str:
    """The section's own title as a heading line, as a model told not to write one still does."""
    found = _SECTION.search(prompt)
    title = found.group(1).split(" › ")[-1] if found else "A New Chapter"
    return rng.choice(HEADING_FORMS).format(title, n=rng.randint(1, 12))


def _echo(prompt: str, rng: random.Random) -> str:
    """2-4 consecutive lines of the prompt, copied as a model repeating its instructions does."""
    lines = [line for line in prompt.splitlines() if line.strip()]
    if not lines:
        return ""
    count = min(len(lines), rng.randint(2, 4))
    start = rng.randint(0, len(lines) - count)
    return "\n".join(lines[start:start + count])
