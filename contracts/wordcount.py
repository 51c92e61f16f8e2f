"""The one word counter (SPEC L2), used for chunk checks, the final check, the UI and the API.

A word is a maximal run of non-whitespace characters, as `wc -w` counts, except that
each CJK ideograph, kana or hangul syllable is a word of its own, as word processors count.
"""

import re

_CJK = (
    "\u3040-\u309f"  # hiragana
    "\u30a0-\u30ff"  # katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0002ebef"  # CJK extensions B-F
)
_WORD = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")


def count_words(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


_TRAILING_TOKEN = re.compile(f"[^\\s{_CJK}]+$")


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
