"""The full prompt carries the state; a model that echoes it gets the lean prompt: the request,
the title, a rewrite's passage and the text to carry on from, that text last."""

from contracts.messages import WriteChunk
from services.generator.echoes import LEAN_AFTER, EchoMemory
from services.generator.memory import Memory
from services.generator.prompts import chunk_prompt, lean_prompt

CMD = WriteChunk(chunk_index=3, section_index=1, section_title="Coops", brief="How to build a coop.",
                 target_words=600, title="Keeping chickens", instructions="A guide for beginners.")
MEMORY = Memory(summary="The guide has covered breeds.", ledger="- Ada: a Sussex hen", style="plain, second person")
TAIL = "Hens like a dry perch. " * 10


def test_the_full_prompt_carries_the_state_and_ends_with_the_text_to_carry_on_from() -> None:
    prompt = chunk_prompt(CMD, MEMORY, tail=TAIL, written="", remaining=600, tail_words=150)
    for part in ("The guide has covered breeds.", "- Ada: a Sussex hen", "plain, second person", "How to build a coop."):
        assert part in prompt
    assert prompt.rstrip().endswith("Hens like a dry perch.") and "\n\n\n" not in prompt


def test_a_chunk_under_way_carries_its_names_but_not_the_summary_it_was_begun_from() -> None:
    begun = chunk_prompt(CMD, MEMORY, tail=TAIL, written="", remaining=600, tail_words=150)
    going = chunk_prompt(CMD, MEMORY, tail=TAIL, written="The coop stands on legs. " * 20, remaining=300,
                         tail_words=150)
    assert "The guide has covered breeds." in begun and "The guide has covered breeds." not in going
    assert "- Ada: a Sussex hen" in begun and "- Ada: a Sussex hen" in going
    assert "How to build a coop." in going and going.rstrip().endswith("The coop stands on legs.")
    without_names = chunk_prompt(CMD, Memory(summary="So far: breeds."), tail=TAIL, written="The coop. " * 5,
                                 remaining=300, tail_words=150)
    assert "keep consistent" not in without_names and "So far" not in without_names


def test_the_first_prompt_leaves_out_the_state_it_does_not_have_yet() -> None:
    prompt = chunk_prompt(CMD, Memory(), tail="", written="", remaining=600, tail_words=150)
    assert "summary" not in prompt and "Style sheet" not in prompt and "very beginning" in prompt


def test_a_text_of_one_chunk_is_asked_for_whole_without_the_plans_lines() -> None:
    whole = CMD.model_copy(update={"chunk_index": 0, "last": True, "section_title": "Keeping chickens",
                                   "brief": "The whole text."})
    prompt = chunk_prompt(whole, Memory(), tail="", written="", remaining=120, tail_words=150)
    assert "A guide for beginners." in prompt and "Keeping chickens" in prompt
    assert "Write the whole of it, about 120 words." in prompt
    assert "Brief" not in prompt and "Where this part belongs" not in prompt and "The whole text." not in prompt
    for kept in ({"last": False}, {"chunk_index": 1}, {"mode": "rewrite", "source_text": "The old coop leaked."}):
        assert "Brief for this part" in chunk_prompt(whole.model_copy(update=kept), Memory(), tail="", written="",
                                                     remaining=120, tail_words=150)


def test_the_lean_prompt_holds_the_request_title_and_a_short_tail_only() -> None:
    prompt = lean_prompt(CMD, tail=TAIL, written="", remaining=250, tail_words=40)
    assert prompt.startswith("Write the next 250 words of this text (A guide for beginners)")
    assert "Keeping chickens" in prompt and "How to build a coop." in prompt and "Ada" not in prompt
    assert prompt.endswith(" ".join(TAIL.split()[-40:]))


def test_a_rewrite_lean_prompt_carries_its_source_passage() -> None:
    cmd = CMD.model_copy(update={"source_text": "The old coop leaked.", "mode": "rewrite"})
    prompt = lean_prompt(cmd, tail="", written="", remaining=100, tail_words=40)
    assert prompt.startswith("Rewrite this passage") and "The old coop leaked." in prompt


def test_a_model_is_lean_once_it_echoed_in_enough_chunks_and_not_before() -> None:
    echoes = EchoMemory()
    for chunk in range(LEAN_AFTER):
        assert not echoes.lean("small")
        echoes.echoed("small", "job", chunk)
        echoes.echoed("small", "job", chunk)  # twice in one chunk counts once
    assert echoes.lean("small") and not echoes.lean("large")
