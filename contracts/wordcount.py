"""The one word counter (SPEC L2), used for chunk checks, the final check, the UI and the API.

A word is a maximal run of non-whitespace characters, as `wc -w` counts, except that each CJK
ideograph, kana or hangul syllable is a word of its own, as word processors count. Whitespace is
what Python's str.split() splits on.
"""

import re
from itertools import islice

_CJK = (
    "\u3040-\u3098\u309b-\u309f"  # hiragana (less the combining sound marks)
    "\u30a0-\u30ff"  # katakana
    "\u31f0-\u31ff"  # katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff66-\uff9d"  # half-width katakana
    "\U0001b000-\U0001b16f"  # kana supplement and extended-A
    "\U00020000-\U0002ebef"  # CJK extensions B-F
    "\U0002f800-\U0002fa1f"  # CJK compatibility ideographs supplement
    "\U00030000-\U000323af"  # CJK extensions G-H
)
_MARKS = "\u3099\u309a"  # combining (semi-)voiced sound marks belong to the kana before them
_WORD = re.compile(f"[{_CJK}][{_MARKS}]*|[^\\s{_CJK}]+")


def count_words(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


def nth_word_start(text: str, n: int) -> int | None:
    """Where the n-th word (counting from 1) begins; None if the text has fewer. Any prefix of
    `text` that reaches past this index holds at least n words."""
    match = next(islice(_WORD.finditer(text), n - 1, None), None) if n > 0 else None
    return match.start() if match else None


def word_ends(text: str) -> list[int]:
    """The index just past each word, so a text can be cut after its n-th word without
    re-spacing it (CJK text has no spaces to cut at)."""
    return [match.end() for match in _WORD.finditer(text)]


# The last word of a slice may go on in the next one (so may a kana's combining mark).
_TRAILING_TOKEN = re.compile(f"(?:[^\\s{_CJK}]+|[{_CJK}][{_MARKS}]*)\\Z")


class WordTally:
    """Counts a text that arrives in slices (a document streamed from the database) exactly as
    count_words would count it whole: a word split across two slices is counted once."""

    def __init__(self) -> None:
        self._words = 0
        self._carry = ""

    def feed(self, text: str) -> None:
        text = self._carry + text
        match = _TRAILING_TOKEN.search(text)
        self._carry = match.group() if match else ""
        self._words += count_words(text[: match.start()] if match else text)

    @property
    def total(self) -> int:
        return self._words + count_words(self._carry)
