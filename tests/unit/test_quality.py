"""What makes an LLM reply unusable, and how truncated replies are cut and joined without losing words."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.messages import WriteChunk
from contracts.wordcount import count_words
from services.generator.memory import Memory
from services.generator.prompts import chunk_prompt
from services.generator.quality import (
    _SENTENCE_END, joined, paragraph_digests, paragraphs, rejection_reason, trim_to_budget, trim_to_last_sentence,
    without_repeated_paragraphs,
)

HARBOUR = (
    "The harbour woke before the town did. Gulls wheeled over the slipway while the first boats "
    "nosed out past the breakwater, their engines coughing in the cold."
)
MARKET = (
    "By nine the market square had filled with crates of mackerel and the smell of tar, and the "
    "fishmonger's wife was already arguing with the harbourmaster about the price of ice."
)
STORM = (
    "Nobody on the quay had seen the storm coming. It arrived from the west in the early afternoon, "
    "a grey wall that swallowed the lighthouse and then the breakwater and then the boats."
)


def _prompt(tail: str = HARBOUR, written: str = "") -> str:
    cmd = WriteChunk(
        chunk_index=1, section_index=0, section_title="Document section 1 of 2", brief="Develop the day.",
        target_words=400, title="A harbour town", instructions="A quiet story about a fishing harbour.",
    )
    return chunk_prompt(cmd, Memory(), tail=tail, written=written, remaining=400, tail_words=150)


def _long_prose(opening: str, words: int = 120) -> str:
    filler = "the tide turned slowly under a pale sky while nets dried on the rails and".split()
    body = " ".join(filler[i % len(filler)] for i in range(words))
    return f"{opening} {body}."


@pytest.mark.parametrize("reply", ["", " ", "\n\n\t  \n"])
def test_empty_or_whitespace_reply_is_rejected_as_empty(reply):
    assert rejection_reason(reply, _prompt(), "") == "empty reply"


@pytest.mark.parametrize("reply", [
    "I'm sorry, but I can't help with that.",
    "I am sorry, I cannot continue this story.",
    "I cannot write that.",
    "I won't continue with this request.",
    "As an AI language model, I can't produce content of that length.",
    "  i'm sorry, but no.",
])
def test_short_refusal_is_rejected(reply):
    assert rejection_reason(reply, _prompt(), "") == "refusal"


def test_short_refusal_with_typographic_apostrophes_is_rejected():
    assert rejection_reason("I’m sorry, but I can’t help with that.", _prompt(), "") == "refusal"


@pytest.mark.parametrize("opening", ["I can't wait to tell you what happened next.", "I'm sorry to say the boat sank."])
def test_long_first_person_prose_that_opens_like_a_refusal_is_accepted(opening):
    reply = _long_prose(opening, words=120)
    assert count_words(reply) >= 80
    assert rejection_reason(reply, _prompt(), "") is None


def test_reply_that_echoes_a_paragraph_of_the_prompt_is_rejected():
    reply = f"{MARKET}\n\n{HARBOUR}\n\n{STORM}"
    assert rejection_reason(reply, _prompt(tail=HARBOUR), "") == "reply repeats the prompt"


def test_reply_that_is_the_start_of_the_prompt_is_rejected():
    prompt = _prompt()
    assert rejection_reason(prompt[:300], prompt, "") == "reply repeats the prompt"


def test_reply_repeating_an_earlier_paragraph_is_rejected_even_when_rewrapped():
    earlier = f"{HARBOUR}\n\n{MARKET}"
    rewrapped_market = MARKET.replace(" the ", "\nthe ", 2)
    reply = f"{STORM}\n\n{rewrapped_market}"
    assert rejection_reason(reply, _prompt(tail=STORM[:60]), earlier) == "reply repeats an earlier paragraph"


def test_new_prose_is_accepted():
    assert rejection_reason(f"{STORM}\n\n{MARKET}", _prompt(tail=HARBOUR), HARBOUR) is None


def test_short_new_prose_that_shares_words_with_the_prompt_is_accepted():
    assert rejection_reason("The storm broke at dusk, and the gulls went quiet.", _prompt(), HARBOUR) is None


@pytest.mark.parametrize("text, trimmed", [
    ("She left. He stayed. The door", "She left. He stayed."),
    ("Was it over? It was! And then the", "Was it over? It was!"),
    ('He said "Stop." Then he', 'He said "Stop."'),
    ("She whispered, “Go home.” The rain", "She whispered, “Go home.”"),
    ("It rained (all night.) By morning", "It rained (all night.)"),
    ("And then… silence fell over", "And then…"),
    ("One sentence only.", "One sentence only."),
    ("Ends with a space. ", "Ends with a space."),
])
def test_truncated_reply_is_cut_after_its_last_sentence_end(text, trimmed):
    assert trim_to_last_sentence(text) == trimmed


@pytest.mark.parametrize("text", ["no sentence ends here", "it cost 3.50 dollars and", "see example.com for", ""])
def test_reply_without_a_sentence_end_is_kept_whole(text):
    assert trim_to_last_sentence(text) == text


def test_cjk_sentence_end_followed_by_space_or_end_is_a_cut_point():
    assert trim_to_last_sentence("第一句。 第二句！ 第三") == "第一句。 第二句！"
    assert trim_to_last_sentence("第一句。第二句。") == "第一句。第二句。"


@pytest.mark.parametrize("text, trimmed", [
    ("第一句。第二句。第三", "第一句。第二句。"),
    ("「こんにちは。」と言った。次の", "「こんにちは。」と言った。"),
])
def test_cjk_sentences_without_spaces_are_cut_after_the_last_full_stop(text, trimmed):
    assert trim_to_last_sentence(text) == trimmed


def test_first_piece_is_taken_stripped():
    assert joined("", "  \nOnce upon a time.  \n") == "Once upon a time."


def test_continuation_is_joined_with_a_space():
    assert joined("The boat left", "  at dawn.") == "The boat left at dawn."


def test_continuation_starting_a_new_paragraph_is_joined_with_a_paragraph_break():
    assert joined("The boat left at dawn.\n", "\nBy noon it was back.") == "The boat left at dawn.\n\nBy noon it was back."


def test_joining_never_merges_or_loses_words():
    rng = random.Random(7)
    pieces = ["word", "half", "我爱", "Python", "。", "end.", " ", "\n", "\n\n", "\t", "\u3000", "—", "x"]
    for _ in range(300):
        written = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        piece = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        assert count_words(joined(written, piece)) == count_words(written) + count_words(piece), (written, piece)


def test_paragraphs_are_split_on_blank_lines_and_whitespace_normalised():
    text = f"{HARBOUR}\n\n  {MARKET.replace(' ', chr(10), 3)}  \n \t\n{STORM}"
    assert paragraphs(text) == [HARBOUR, " ".join(MARKET.split()), STORM]


def test_paragraphs_shorter_than_forty_characters_are_ignored():
    assert paragraphs(f"Chapter One\n\n{HARBOUR}\n\n* * *\n\n") == [HARBOUR]
    assert paragraphs("") == []


def test_an_overshooting_reply_is_cut_at_the_first_sentence_end_past_the_budget():
    reply = "One two three. Four five six. Seven eight nine. Ten eleven."
    assert trim_to_budget(reply, 4) == "One two three. Four five six."
    assert trim_to_budget(reply, 3) == "One two three."


def test_a_reply_within_budget_or_without_sentence_ends_is_kept_whole():
    assert trim_to_budget("One two three. Four five.", 10) == "One two three. Four five."
    assert trim_to_budget("no sentence end here at all", 2) == "no sentence end here at all"


# Pieces that meet at the edges the cut has to get right: sentence ends inside and after words,
# closing quotes and brackets, CJK ideographs and kana with combining marks, full-width stops.
_PIECES = ["word", "a.", "b!", "漢", "字。", "か\u3099", "”", "。」", " ", "\n", "3.5", 'end?"', ")", "…", "。", "！"]


@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join), st.integers(min_value=-2, max_value=25))
@settings(max_examples=2000, deadline=None, derandomize=True)
def test_the_budget_cut_is_the_shortest_sentence_end_prefix_holding_the_needed_words(text, needed):
    cut = trim_to_budget(text, needed)
    ends = [m.end() for m in _SENTENCE_END.finditer(text) if count_words(text[: m.end()]) >= needed]
    assert cut == (text[: ends[0]] if ends else text)


def test_a_paragraph_formed_across_two_replies_is_cut_where_it_repeats_and_so_is_one_another_chunk_holds():
    """Seen on Gemma: a short reply's residue ("a bottle). ... that time.") joined the paragraph
    before it, twice, where neither reply's own checks saw the paragraph whole."""
    junk = "a bottle). itu yang pertama time. that time. times that time."
    other = "The keeper climbed the stairs at dusk and lit the lamp, as every night."
    stored_elsewhere = "The ferry left without her, and the gulls followed it out of the bay."
    text = f"{junk}\n\n{other}\n\n{junk}\n\n{stored_elsewhere}\n\nShort one.\n\nShort one."
    kept, cut = without_repeated_paragraphs(text, set(paragraph_digests(stored_elsewhere)))
    assert kept == f"{junk}\n\n{other}\n\nShort one.\n\nShort one."  # a line too short to be a paragraph stays
    assert cut == [junk, stored_elsewhere]
    assert without_repeated_paragraphs(other, set()) == (other, [])
