"""A weak model's reply is cleaned before it is kept: nothing of Longform's prompt scaffolding,
no chatter, no chat-template tokens, no sentences repeated across a chunk boundary; what the
user wrote may be reused. Replies here are of the kinds Gemma 3 270M and chatty APIs give."""

from contracts.messages import WriteChunk
from contracts.wordcount import count_words
from services.generator.cleaning import cleaned, cut_notes, goes_round, scaffolding, shingles
from services.generator.memory import Memory
from services.generator.prompts import chunk_prompt, template
from services.generator.quality import rejection_reason

INSTRUCTIONS = "A newsletter for the members of a rowing club about the spring regatta on the river."
CMD = WriteChunk(chunk_index=1, section_index=0, section_title="The regatta", brief="Open with the race day.",
                 target_words=300, title="Spring regatta", instructions=INSTRUCTIONS)
MEMORY = Memory(summary="The club prepares its boats for the spring regatta while the river runs high after the rain.",
                ledger="- Marta Vinter: captain of the women's eight", style="warm, past tense")
TAIL = "The boathouse doors stood open before dawn. Oars leaned against the wall in neat rows, still wet."
PROMPT = template("system") + "\n" + chunk_prompt(CMD, MEMORY, tail=TAIL, written="", remaining=300, tail_words=150)
SCAFFOLD = scaffolding(PROMPT, CMD.title, CMD.instructions)
PROSE = ("The first crews reached the start line at eight, shivering in their club vests. A light wind came "
         "down the valley and the umpire raised his flag twice before the boats were straight.")


def _clean(reply: str, earlier: str = TAIL):
    return cleaned(reply, SCAFFOLD, earlier)


def test_an_echoed_prompt_block_is_cut_and_the_prose_kept() -> None:
    echo = PROMPT.split("Where this part belongs")[0]  # "Document title: ... Style sheet: (none given)"
    result = _clean(echo + "\n\n" + PROSE)
    assert result.text == PROSE
    assert "Style sheet" in " ".join(result.cuts) and "Document title" in " ".join(result.cuts)


def test_the_instruction_sentences_of_the_template_never_reach_the_text() -> None:
    reply = f"{PROSE} Reply with the new text only. Write the next part of the document."
    assert _clean(reply).text == PROSE


def test_chat_template_tokens_and_role_markers_are_cut() -> None:
    reply = f"<start_of_turn>model\n{PROSE}<end_of_turn>\n<|im_end|>\n### Response:\nassistant:"
    assert _clean(reply).text == PROSE


def test_preambles_and_closing_remarks_are_cut() -> None:
    for preamble in ("Sure! Here is the next part of the document:", "Certainly. Below is the continuation:",
                     "Here's the next part, about 300 words:"):
        reply = f"{preamble}\n\n{PROSE}\n\nI hope this helps! Let me know if you would like any changes."
        result = _clean(reply)
        assert result.text == PROSE, preamble
        assert preamble in result.cuts


def test_stray_labels_and_quote_fences_are_cut() -> None:
    reply = f'SUMMARY: the race begins\n"""\n{PROSE}\n"""\nLEDGER: - Marta: captain'
    assert _clean(reply).text == PROSE


def test_the_quoted_tail_repeated_at_the_start_is_cut() -> None:
    result = _clean(f'"{TAIL}"\n\n{PROSE}')
    assert result.text == PROSE


def test_a_sentence_repeated_within_the_reply_is_kept_once() -> None:
    loop = "The boats went out again into the grey morning water. "
    result = _clean(PROSE + " " + loop * 4)
    assert result.text.count("grey morning water") == 1


def test_the_users_own_words_may_be_reused() -> None:
    reply = f"This is {INSTRUCTIONS[0].lower()}{INSTRUCTIONS[1:]} {PROSE}"
    assert _clean(reply).text == reply


def test_what_was_cut_is_noted_for_the_event() -> None:
    result = _clean(f"Sure! Here is the next part of the document:\n\n{PROSE}")
    notes = cut_notes(result)
    assert notes["longform.cut_words"] == count_words("Sure! Here is the next part of the document:")
    assert "Here is the next part" in notes["longform.cut"]
    assert cut_notes(_clean(PROSE)) == {}


def test_a_reply_that_is_mostly_echo_is_rejected() -> None:
    reply = PROMPT + "\n\nThe river was high."
    assert rejection_reason(reply, PROMPT, TAIL, _clean(reply), needed=300) == "reply is mostly echo or repetition"
    assert rejection_reason(reply, PROMPT, TAIL, _clean(reply), needed=4) is None  # what is left is enough


def test_a_clean_reply_is_accepted_and_unchanged() -> None:
    assert rejection_reason(PROSE, PROMPT, TAIL, _clean(PROSE)) is None
    assert _clean(PROSE).text == PROSE and not _clean(PROSE).cuts


def test_no_run_of_eight_words_from_the_scaffolding_survives_any_echo() -> None:
    lines = [line for line in PROMPT.splitlines() if len(line.split()) >= 8]
    for line in lines:
        result = _clean(f"{PROSE}\n\n{line}\n\n{PROSE.replace('first', 'last')}")
        assert not shingles(result.text) & SCAFFOLD.runs, line


def test_a_preamble_after_an_echo_and_a_label_is_cut_too() -> None:
    """The fake's chatty order: template token, echoed prompt lines, preamble, stray label, text."""
    echo = "\n".join(PROMPT.splitlines()[:3])
    reply = (f"<start_of_turn>model\n\n{echo}\n\nSure! Here is the next part of the document:\n\nSUMMARY:\n\n{PROSE}"
             "\n\nLet me know if you want me to continue.\n\n<|im_end|>")
    assert _clean(reply).text == PROSE


def test_a_stretch_that_loops_on_itself_is_cut() -> None:
    loop = "the keeper The keeper the keeper\nThe keeper\nthe keeper " * 6
    result = _clean(f"{PROSE}\n\n{loop}\n\n{PROSE.replace('first', 'last')}")
    assert "keeper" not in result.text and result.text.startswith(PROSE)


def test_a_reply_going_round_in_a_loop_is_told_from_prose_and_from_one_echo() -> None:
    """What the writer watches for while a reply streams (services/generator/writer.py,
    `_hopeless`): short loops, and long ones (the prompt written again and again, as Gemma 3 270M
    does); not prose, nor a prompt echoed once before the prose."""
    echo = PROMPT.split("Where this part belongs")[0]
    assert goes_round(PROSE + " The keeperท่าน" * 30)
    assert goes_round("Write the next 159 words (the next 159 words(" * 12)
    assert goes_round((echo + " ") * 3) and not goes_round(echo)
    story = " ".join([PROSE, PROSE.replace("first", "last"), TAIL, MEMORY.summary])
    assert not goes_round(story) and not goes_round(f"{echo}\n\n{story}")


def test_a_paragraph_another_chunk_holds_is_cut() -> None:
    from services.generator.cleaning import without_stored
    from services.generator.quality import paragraph_digests
    other = "Solution. The child had a problem, and the problem had a solution nobody saw."
    result = _clean(f"{PROSE}\n\n{other}")
    without_stored(result, set(paragraph_digests(other)))
    assert result.text == PROSE and result.echo_words == len(other.split())


def test_a_paragraph_the_reply_holds_twice_is_cut_the_second_time() -> None:
    """(The cleaner cuts a sentence repeated in a reply; this is the rule for what reaches it whole.)"""
    from services.generator.cleaning import Cleaned, without_stored
    twice = "Solution. The child had a problem, and the problem had a solution nobody saw."
    result = Cleaned(f"{twice}\n\n{PROSE}\n\n{twice}")
    without_stored(result, set())
    assert result.text == f"{twice}\n\n{PROSE}" and result.echo_words == len(twice.split())


def test_the_users_instructions_pasted_back_as_a_paragraph_are_an_echo() -> None:
    result = _clean(f"{INSTRUCTIONS}\n\n{PROSE}")
    assert result.text == PROSE and result.echo_words == len(INSTRUCTIONS.split())
