"""The memory tail of a write reply (services/generator/memory_tail.py): cut off before the text
is used, read leniently, and unusable when cut short or missing."""

from services.generator.memory_tail import split_reply

TEXT = "Ada reached the river at dusk.\n\nBy noon she had found the bridge."


def test_the_tail_is_cut_from_the_text_and_read_as_a_gist_and_ledger_lines():
    reply = f"{TEXT}\n\n@@MEMORY@@\nGIST: Ada crosses the river by the old bridge.\nNAMES:\n- Ada: the walker\n- The bridge: old, on the maps"
    text, tail = split_reply(reply, truncated=False)
    assert text == TEXT
    assert tail.gist == "Ada crosses the river by the old bridge." and not tail.missing
    assert tail.names == "- Ada: the walker\n- The bridge: old, on the maps"
    assert tail.words == len(reply[len(TEXT):].split())


def test_a_marker_in_markdown_dress_and_a_tail_without_names_still_count():
    text, tail = split_reply(f"{TEXT}\n**@@ MEMORY @@**\n**GIST:** A crossing.", truncated=False)
    assert text == TEXT and tail.gist == "A crossing." and tail.names == ""


def test_a_reply_without_the_marker_is_all_text_and_says_why_there_is_no_gist():
    assert split_reply(TEXT, truncated=False) == (TEXT, split_reply(TEXT, truncated=False)[1])
    assert split_reply(TEXT, truncated=False)[1].missing == "no memory tail"
    assert split_reply(TEXT, truncated=True)[1].missing == "cut short before its memory tail"


def test_a_tail_cut_short_or_without_a_gist_is_not_used_but_still_cut_from_the_text():
    text, tail = split_reply(f"{TEXT}\n@@MEMORY@@\nGIST: Ada cro", truncated=True)
    assert text == TEXT and tail.missing == "memory tail cut short" and not tail.gist
    text, tail = split_reply(f"{TEXT}\n@@MEMORY@@\nSure, here you go!", truncated=False)
    assert text == TEXT and tail.missing == "memory tail without a GIST line"


def test_a_gist_mentioned_inside_the_prose_is_not_a_marker():
    reply = "The word @@MEMORY@@ appears mid-sentence here, and the text goes on."
    assert split_reply(reply, truncated=False)[0] == reply
