"""What a weak model wraps around its text, cut before the text is kept: chat-template tokens and
role markers, "Here is ..." preambles and closing remarks, labels it was asked for elsewhere,
lines of Longform's own prompt, any run of 8 or more words taken from the prompt's scaffolding
(not from what the user wrote), and sentences that repeat text already written. Every cut is
returned, so the `llm.call` event can say what was removed."""

import re
from dataclasses import dataclass, field

from contracts.wordcount import count_words
from services.generator.quality import split_sentences

SHINGLE = 8
_TEMPLATE_TOKEN = re.compile(
    r"<\|[a-z_]{2,20}\|>|</?(?:start_of_turn|end_of_turn|bos|eos|s)>(?:\s*(?:user|model|assistant)\b)?"
    r"|\[/?INST\]|^\s*###\s*(?:Response|Instruction|Input|Assistant|User)\s*:?\s*$", re.I | re.M)
_ROLE_LINE = re.compile(r"^\s*(?:user|model|assistant|system)\s*:?\s*$", re.I | re.M)
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


@dataclass
class Cleaned:
    text: str
    cuts: list[str] = field(default_factory=list)

    @property
    def cut_words(self) -> int:
        return sum(count_words(cut) for cut in self.cuts)

    def cut(self, pattern: re.Pattern, replacement: str = "") -> None:
        self.cuts += [m.group(0).strip() for m in pattern.finditer(self.text) if m.group(0).strip()]
        self.text = pattern.sub(replacement, self.text)


def _normal(words: list[str]) -> tuple[str, ...]:
    return tuple(w for w in (_NON_WORD.sub("", word.lower()) for word in words) if w)


def shingles(text: str, size: int = SHINGLE) -> set[tuple[str, ...]]:
    words = _normal(text.split())
    return {words[i:i + size] for i in range(len(words) - size + 1)}


def scaffolding(prompt: str, *user_texts: str) -> set[tuple[str, ...]]:
    """The prompt's 8-word runs that the user did not write: labels, state blocks, instructions."""
    theirs = set().union(*(shingles(text) for text in user_texts)) if user_texts else set()
    return shingles(prompt) - theirs


def cleaned(reply: str, scaffold: set[tuple[str, ...]], earlier: str = "") -> Cleaned:
    """The reply without chatter, scaffolding, or sentences already written in `earlier`."""
    result = Cleaned(reply)
    for pattern in (_TEMPLATE_TOKEN, _ROLE_LINE, _QUOTE_FENCE, _LABEL_LINE):
        result.cut(pattern)
    result.cut(_PREAMBLE)
    result.cut(_CLOSING)
    _drop_sentences(result, scaffold, shingles(earlier), {_normal(s.split()) for s in split_sentences(earlier)})
    result.text = re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]{2,}", " ", result.text)).strip()
    return result


def _drop_sentences(result: Cleaned, scaffold: set, seen: set, seen_sentences: set) -> None:
    """Sentences echoing the scaffolding, or repeating earlier text (or this reply's own), go."""
    kept_paragraphs = []
    for paragraph in re.split(r"\n\s*\n", result.text):
        kept = []
        for sentence in split_sentences(paragraph):
            words = _normal(sentence.split())
            own = {words[i:i + SHINGLE] for i in range(len(words) - SHINGLE + 1)}
            if own & scaffold or _repeats(words, own, seen, seen_sentences):
                result.cuts.append(sentence.strip())
                continue
            kept.append(sentence)
            seen |= own
            seen_sentences.add(words)
        if kept:
            kept_paragraphs.append("".join(kept).strip())
    result.text = "\n\n".join(kept_paragraphs)


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
