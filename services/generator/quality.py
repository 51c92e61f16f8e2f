"""What makes a reply unusable, and how a truncated reply is cut back to whole sentences."""

import hashlib
import re

from contracts.wordcount import count_words, nth_word_start

_REFUSAL = re.compile(
    r"^\s*(I[’']?m sorry|I am sorry|I apologi[sz]e|As an AI"
    r"|I(?: cannot| can[’']?t| won[’']?t| am unable to|[’']?m unable to| am not able to) "
    r"(?:help|assist|comply|fulfil|provide|write|create|continue|do that))\b",
    re.I,
)
# A Latin sentence ends before whitespace; a CJK one ends at its mark, with no space after it.
_SENTENCE_END = re.compile(r"""[.!?…]["'”’)\]]*(?=\s|\Z)|[。！？][」』”’）)\]]*""")
_MIN_PARAGRAPH_CHARS = 40
_CLOSERS = frozenset(".!?…。！？\"'”’)]")


def paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if len(p.strip()) >= _MIN_PARAGRAPH_CHARS]


def paragraph_digests(text: str) -> list[bytes]:
    """The MD5 of each paragraph as `paragraphs` reads them: what "repeated verbatim" compares."""
    return [hashlib.md5(p.encode()).digest() for p in paragraphs(text)]


def is_refusal(reply: str) -> bool:
    return bool(_REFUSAL.match(reply)) and count_words(reply) < 80


def rejection_reason(reply: str, prompt: str, earlier: str, clean=None, needed: int = 0) -> str | None:
    """Why a reply must be discarded and retried, or None if it is usable prose. `clean` is the
    reply with chatter, scaffolding and repeats cut (services/generator/cleaning.py): the echo
    and repeat checks look at what would be kept. A reply that is mostly echo is kept only when
    what is left gives the `needed` words."""
    if count_words(reply) == 0:
        return "empty reply"
    if is_refusal(reply):
        return "refusal"
    text = reply if clean is None else clean.text
    if clean is not None and not text.split():
        return "empty reply" if not clean.echo_words else "reply is mostly echo or repetition"
    if clean is not None and count_words(text) < min(clean.echo_words, needed):
        return "reply is mostly echo or repetition"
    prompt_text = " ".join(prompt.split())
    if any(p in prompt_text for p in paragraphs(text)) or " ".join(text.split())[:200] in prompt_text:
        return "reply repeats the prompt"
    seen = set(paragraphs(earlier))
    if any(p in seen for p in paragraphs(text)):
        return "reply repeats an earlier paragraph"
    return None


def trim_to_last_sentence(text: str) -> str:
    """Cut a truncated reply back to its last complete sentence (all of it if none ends)."""
    ends = list(_SENTENCE_END.finditer(text))
    return text[: ends[-1].end()] if ends else text


def trim_to_budget(text: str, needed: int, slack: int | None = None) -> str:
    """A reply that overshoots, cut at the first sentence end that still gives `needed` words, so a
    chunk ends at most a sentence past its budget (all of it if no sentence end gets there).
    A sentence end is made of non-CJK marks, so none spans the start of the needed-th word: the
    first one found from there is the first whose prefix holds `needed` words.
    With `slack` (tiny targets), a sentence may end at most that many words past `needed`;
    otherwise the text is cut at a word boundary, right after the needed-th word."""
    start = nth_word_start(text, needed) if needed > 0 else 0
    end = _SENTENCE_END.search(text, start) if start is not None else None
    if slack is None or start is None:
        return text[: end.end()] if end else text
    limit = nth_word_start(text, needed + slack + 1)
    if end and (limit is None or end.end() <= limit):
        return text[: end.end()]
    after = nth_word_start(text, needed + 1)
    if after is None:
        return text
    cut = text[:after].rstrip().rstrip(",;:—–-")
    return cut if cut[-1:] in _CLOSERS else cut + "."


def split_sentences(text: str) -> list[str]:
    """The text cut after each sentence end; the pieces join back to the text."""
    pieces, start = [], 0
    for end in _SENTENCE_END.finditer(text):
        pieces.append(text[start:end.end()])
        start = end.end()
    if text[start:].strip():
        pieces.append(text[start:])
    return pieces


def sentences(text: str) -> list[str]:
    return [piece.strip() for piece in split_sentences(text) if piece.strip()]


def without_repeated_paragraphs(text: str, stored: set[bytes]) -> tuple[str, list[str]]:
    """The text without a paragraph it already holds, or that `stored` (other chunks' digests)
    holds: a paragraph can form across two replies (a continuation joins the last one), where
    neither reply's own checks saw it whole. Returns the text and the paragraphs cut."""
    seen, kept, cut = set(stored), [], []
    for part in re.split(r"\n\s*\n", text):
        digest = paragraph_digests(part)
        if digest and digest[0] in seen:
            cut.append(" ".join(part.split()))
            continue
        seen.update(digest)
        kept.append(part)
    return ("\n\n".join(kept).strip(), cut) if cut else (text, cut)


def joined(written: str, piece: str) -> str:
    if not written:
        return piece.strip()
    separator = "\n\n" if piece.startswith("\n") else " "
    return written.rstrip() + separator + piece.strip()
