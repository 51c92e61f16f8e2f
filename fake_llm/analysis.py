"""What the fake answers an analysis: notes on a passage (`PASSAGE_NOTES` in the prompt: CLAIM,
NAME and QUOTE lines drawn from the passage itself), the report's outline (each leaf says which
passages it covers when the prompt names how many there are), and report prose that cites the
passages whose notes the prompt carries as (§N), now and then one that does not exist, as a
careless model does (the writer must cut it)."""

import random
import re

from fake_llm.names import distinct, proper_name
from fake_llm.prose import count_words, first_words, write_prose

NOTES_MARKER = "PASSAGE_NOTES"
_PASSAGES = re.compile(r"^Passages: the source is cut into (\d+)", re.M)
_NOTED = re.compile(r"^§(\d+):", re.M)
_QUOTED = re.compile(r'"""\n(.*?)\n"""', re.S)
_SENTENCE = re.compile(r"[^.!?]+[.!?]")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]{2,}\b")
BOGUS_CITATION_CHANCE = 0.3  # of a reply citing a passage that does not exist


def passages_named(prompt: str) -> int | None:
    found = _PASSAGES.findall(prompt)
    return int(found[-1]) if found else None


def write_notes(prompt: str, words: int, rng: random.Random) -> str:
    quoted = _QUOTED.findall(prompt)
    passage = quoted[-1] if quoted else write_prose(60, rng)
    sentences = [s.strip() for s in _SENTENCE.findall(passage)] or [passage.strip()]
    names = list(dict.fromkeys(_CAPITALISED.findall(passage)))[:4] or [next(distinct(proper_name, rng))]
    quote = first_words(rng.choice(sentences), 8).strip().rstrip(".,;:!?")
    lines = [f"CLAIM: {first_words(sentences[0], 25).strip()}",
             f"CLAIM: {first_words(rng.choice(sentences), 25).strip()}",
             f"NAME: {', '.join(names)}: {write_prose(rng.randint(4, 8), rng)}",
             f'QUOTE: "{quote}"']
    kept, total = [], 0
    for line in lines:
        total += count_words(line)
        if total > words and kept:
            break
        kept.append(line)
    return "\n".join(kept)


def with_citations(text: str, prompt: str, rng: random.Random) -> str:
    """Report prose citing the passages the prompt's notes name, one sentence in three."""
    noted = [int(n) for n in _NOTED.findall(prompt)]
    if not noted:
        return text
    sentences = _SENTENCE.findall(text)
    if not sentences:
        return text
    chosen = set(rng.sample(range(len(sentences)), max(1, len(sentences) // 3)))
    bogus = rng.randrange(len(sentences)) if rng.random() < BOGUS_CITATION_CHANCE else None
    out = text
    for index in sorted(chosen | ({bogus} if bogus is not None else set()), reverse=True):
        sentence = sentences[index]
        number = max(noted) + 1000 if index == bogus else rng.choice(noted)
        at = out.rfind(sentence)
        if at >= 0:
            cut = at + len(sentence) - 1
            out = f"{out[:cut]} (§{number}){out[cut:]}"
    return out


def leaves_with_passages(nodes: list[dict], total: int) -> None:
    """Each leaf, in order, covers an even run of the passages."""
    leaves: list[dict] = []

    def walk(level: list[dict]) -> None:
        for node in level:
            if node.get("children"):
                walk(node["children"])
            else:
                leaves.append(node)

    walk(nodes)
    for i, leaf in enumerate(leaves):
        first = i * total // len(leaves) + 1
        leaf["passages"] = [first, max(first, (i + 1) * total // len(leaves))]
