"""What a weak model wraps around its text, cut before the text is kept: chat-template tokens and
role markers, "Here is ..." preambles and closing remarks, labels it was asked for elsewhere,
lines of Longform's own prompt, any run of 8 or more words taken from the prompt's scaffolding
(not from what the user wrote), and sentences that repeat text already written. Every cut is
returned, so the `llm.call` event can say what was removed."""

import re
from dataclasses import dataclass, field

from contracts.wordcount import count_words
from services.generator.quality import split_sentences, without_repeated_paragraphs

SHINGLE = 8
_TEMPLATE_TOKEN = re.compile(
    r"<\|[a-z_]{2,20}\|>|</?(?:start_of_turn|end_of_turn|bos|eos|s)>(?:\s*(?:user|model|assistant)\b)?"
    r"|\[/?INST\]|^\s*###\s*(?:Response|Instruction|Input|Assistant|User)\s*:?\s*$", re.I | re.M)
# A role marker on a line of its own; or a leaked turn token decoded as junk glued to the role
# ("に通報model", "pembelianmodel"), as a base model served with a chat template writes it.
_ROLE_LINE = re.compile(r"^\s*(?:user|model|assistant|system)\s*:?\s*$|^[ \t]*\S*[^\x00-\x7f]\S*model[ \t]*$"
                        r"|^[ \t]*[a-z]+model[ \t]*$", re.I | re.M)
_QUOTE_FENCE = re.compile(r'^\s*(?:"""|```)\w*\s*$', re.M)
_LABEL_LINE = re.compile(
    r"^\s*(?:SUMMARY|LEDGER|Document title|What the user asked for|Style sheet|Where this part belongs"
    r"|Brief for this part|The document so far, in summary|Names, terms and decisions to keep consistent"
    r"|The text just before this part ends with|This part so far ends with|Before this section"
    r"|After this section|The passage of the source document this part reworks)\s*:.*$", re.I | re.M)
_PREAMBLE = re.compile(
    r"^\s*(?:(?:sure|certainly|of course|okay|ok|absolutely|great)\b[^\n]{0,160}"
    r"|(?:here(?:'s| is| are)|below is|the following is)\b[^\n]{0,160}"
    r"|[^\n]{0,120}\b(?:continuation|next part|as requested|I(?:'ve| have) (?:written|continued))\b[^\n]{0,80}:)"
    r"\s*(?:\n|$)", re.I)
_CLOSING = re.compile(
    r"(?:\n|^)[^\n]{0,60}\b(?:I hope (?:this|that|you)|let me know if|feel free to|would you like me"
    r"|is there anything else|happy to help|want me to (?:continue|write))\b[^\n]*\s*$", re.I)
_NON_WORD = re.compile(r"[^\w]+")
HEADING_WORDS = 14  # a line longer than this is prose, whatever it says
_HEADING_LINE = re.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t][^\n]*)?$|^[ \t]*(\*\*|__)(?:(?!\1)[^\n]){1,120}\1[ \t]*:?[ \t]*$")
_NUMBERED = re.compile(r"^\W*(?:(?:chapter|part|section|book|act)\s+(?:[ivxlc]+|\d+)\b|\d+(?:\.\d+)*\b)?"
                       r"\s*[.:)\u2013\u2014-]?\s*", re.I)
_WORD = re.compile(r"\S+")
_MIN_COPY_CHARS = 40  # as quality.paragraphs counts a paragraph


@dataclass
class Cleaned:
    text: str
    cuts: list[str] = field(default_factory=list)
    echo_words: int = 0  # of the cut words, those that echoed the prompt or repeated text (not chatter)

    @property
    def cut_words(self) -> int:
        return sum(count_words(cut) for cut in self.cuts)

    def cut(self, pattern: re.Pattern, *, echo: bool = False) -> None:
        found = [m.group(0).strip() for m in pattern.finditer(self.text) if m.group(0).strip()]
        self.cuts += found
        self.echo_words += sum(count_words(cut) for cut in found) if echo else 0
        self.text = pattern.sub("", self.text)

    def echoed(self, text: str) -> None:
        self.cuts.append(text.strip())
        self.echo_words += count_words(text)


def _normal(words: list[str]) -> tuple[str, ...]:
    return tuple(_NON_WORD.sub("", word.lower()) for word in words)


def shingles(text: str, size: int = SHINGLE) -> set[tuple[str, ...]]:
    words = _normal(text.split())
    return {words[i:i + size] for i in range(len(words) - size + 1)}


@dataclass(frozen=True)
class Scaffold:
    """The prompt's 8-word runs and whole sentences (of 3 words or more) the user did not write:
    labels, state blocks, instructions."""

    runs: frozenset
    sentences: frozenset
    verbatim: str = ""  # whitespace-normalised text a paragraph may not be a copy of (the prompt)


def _sentence_keys(text: str) -> set[tuple[str, ...]]:
    keys = (_normal(piece.split()) for line in text.splitlines() for piece in split_sentences(line))
    return {key for key in keys if len(key) >= 3}


def scaffolding(prompt: str, *user_texts: str, copies_allowed: bool = False) -> Scaffold:
    """A paragraph that copies the prompt verbatim is an echo even of what the user wrote (their
    instructions pasted back), unless `copies_allowed` (a summary may quote the text it sums up)."""
    theirs = "\n".join(user_texts)
    return Scaffold(frozenset(shingles(prompt) - shingles(theirs)),
                    frozenset(_sentence_keys(prompt) - _sentence_keys(theirs)),
                    "" if copies_allowed else " ".join(prompt.split()))


def cleaned(reply: str, scaffold: Scaffold, earlier: str = "") -> Cleaned:
    """The reply without chatter, scaffolding, or sentences already written in `earlier`."""
    result = Cleaned(reply)
    for pattern in (_TEMPLATE_TOKEN, _ROLE_LINE, _QUOTE_FENCE):
        result.cut(pattern)
    result.cut(_LABEL_LINE, echo=True)
    _drop_sentences(result, scaffold, shingles(earlier), {_normal(s.split()) for s in split_sentences(earlier)})
    result.text = result.text.strip()
    result.cut(_PREAMBLE)  # once the echo before it is gone, a preamble opens the text
    result.cut(_CLOSING)
    result.text = re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]{2,}", " ", result.text)).strip()
    return result


def _drop_sentences(result: Cleaned, scaffold: Scaffold, seen: set, seen_sentences: set) -> None:
    """Sentences echoing the scaffolding, or repeating earlier text (or this reply's own), go; an
    8-word run of scaffolding inside a sentence that is mostly the model's own goes alone."""
    kept_paragraphs = []
    for paragraph in re.split(r"\n\s*\n", result.text):
        flat = " ".join(paragraph.split())
        if len(flat) >= _MIN_COPY_CHARS and flat in scaffold.verbatim:
            result.echoed(paragraph)
            continue
        pieces = split_sentences(paragraph)
        words = _normal(paragraph.split())
        echo = {i + k for i in range(len(words) - SHINGLE + 1) if words[i:i + SHINGLE] in scaffold.runs
                for k in range(SHINGLE)}
        kept, start = [], 0
        for piece in pieces:
            spans = [m.span() for m in _WORD.finditer(piece)]
            own_words = words[start:start + len(spans)]
            echoed = [k for k in range(len(spans)) if start + k in echo]
            start += len(spans)
            own = {own_words[i:i + SHINGLE] for i in range(len(own_words) - SHINGLE + 1)}
            if (len(echoed) * 2 >= len(spans) or own_words in scaffold.sentences or _loops(own_words)
                    or _repeats(own_words, own, seen, seen_sentences)):
                result.echoed(piece)
                continue
            kept.append(_without(piece, [spans[k] for k in echoed], result))
            seen |= own
            seen_sentences.add(own_words)
        if kept:
            kept_paragraphs.append("".join(kept).strip())
    result.text = "\n\n".join(kept_paragraphs)


def _without(piece: str, spans: list[tuple[int, int]], result: Cleaned) -> str:
    """The sentence without the echoed words (runs of them, cut where they stand)."""
    for begin, end in reversed(spans):
        result.echoed(piece[begin:end])
        piece = piece[:begin] + piece[end:]
    return piece


def _loops(words: tuple, size: int = 4) -> bool:
    """A stretch that repeats itself ("the keeper the keeper the keeper ..."), as a small model
    stuck in a loop writes it: most of its 4-word runs occur in it more than once."""
    runs = [words[i:i + size] for i in range(len(words) - size + 1)]
    return len(runs) >= 8 and len(set(runs)) * 2 <= len(runs)


def goes_round(text: str, last: int = 48) -> bool:
    """Whether `text` goes round in a loop: its last `last` words loop on themselves (`_loops`:
    "The keeper The keeper ..."), or most 8-word runs of its second half are in its first (a
    longer period: the prompt echoed over and over, a paragraph written again and again)."""
    words = _normal(text.split())
    if _loops(words[-last:]):
        return True
    half = len(words) // 2
    newer = {words[i:i + SHINGLE] for i in range(half, len(words) - SHINGLE + 1)}
    older = {words[i:i + SHINGLE] for i in range(half - SHINGLE + 1)}
    return len(newer) >= SHINGLE and len(newer & older) * 2 >= len(newer)


def _repeats(words: tuple, own: set, seen: set, seen_sentences: set) -> bool:
    if len(words) >= 5 and words in seen_sentences:
        return True
    return bool(own) and len(own & seen) * 2 >= len(own)


def cut_notes(result: Cleaned, limit: int = 600) -> dict:
    """What was cut, for the `llm.call` event (the full reply is in llm_calls)."""
    if not result.cuts:
        return {}
    text = " | ".join(result.cuts)
    return {"longform.cut_words": result.cut_words,
            "longform.cut": text if len(text) <= limit else text[: limit - 1] + "…"}


def without_headings(result: Cleaned, titles: list[str]) -> None:
    """Cut the headings a chunk writes of its own: the document's headings are the plan's, put in
    when it is assembled (contracts/headings.py). A heading is a markdown heading line, a line that
    is only bold and short, or a line that is one of the titles (less "Chapter 3:" and the like)."""
    wanted = {_title_key(title) for title in titles} - {""}
    kept = []
    for line in result.text.split("\n"):
        if _HEADING_LINE.match(line) or (_title_key(line) in wanted and len(line.split()) <= HEADING_WORDS
                                         and not line.rstrip().endswith((".", "!", "?", "…"))):
            result.cuts.append(line.strip())
        else:
            kept.append(line)
    result.text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def _title_key(line: str) -> str:
    words = _NON_WORD.sub(" ", _NUMBERED.sub("", line.lower())).split()
    return " ".join(words)


def without_stored(result: Cleaned, stored: set[bytes]) -> None:
    """Cut the paragraphs another chunk of the job already holds (digests as
    `quality.paragraph_digests` makes them), or the reply holds twice: no paragraph is repeated
    anywhere in the document. The rule is `quality.without_repeated_paragraphs`'s."""
    result.text, cut = without_repeated_paragraphs(result.text, stored)
    for paragraph in cut:
        result.echoed(paragraph)
