"""Every refusal of a request's content says what is wrong in a sentence (services/gateway/plain.py)."""

import pytest

from services.gateway.plain import body_too_large, sentence


def _error(field: str, kind: str, msg: str) -> list[dict]:
    return [{"type": kind, "loc": ["body", field], "msg": msg}]


@pytest.mark.parametrize(("status", "errors", "said"), [
    (415, _error("source", "media_type", "'a.pdf': only .txt, .md and .docx sources are accepted"),
     "Only .txt, .md and .docx files can be a source."),
    (413, _error("source", "too_large", "source is over this server's limit of 8388608 bytes of UTF-8"),
     "The source is over this server's limit of 8 MB. Split it or condense it first."),
    (413, _error("source_text", "too_large", "its text is over (max_source_bytes is 1500 bytes of text)"),
     "The source is over this server's limit of 1.5 KB. Split it or condense it first."),
    (422, _error("source", "value_error", "source has 612000 words; the limit is 500000"),
     "The source has 612,000 words; the limit is 500,000. Split it first."),
    (422, _error("source_text", "value_error", "source is empty"),
     "The source is empty: paste the text or choose a file."),
    (422, _error("source", "value_error", "source looks binary: it contains NUL bytes"),
     "The source cannot be read as text: source looks binary: it contains NUL bytes."),
    (413, [{"type": "too_large", "loc": ["body"], "msg": "request body is over this server's limit of 10485760"
            " bytes (max_body_bytes)"}], "The request is over this server's limit of 10 MB."),
])
def test_a_source_refusal_reads_as_a_sentence(status, errors, said) -> None:
    assert sentence(status, errors).startswith(said)


def test_sizes_read_in_the_unit_people_use() -> None:
    assert body_too_large(10 * 1024 * 1024).startswith("The request is over this server's limit of 10 MB.")
    assert "of 999 bytes" in body_too_large(999)
    assert sentence(422, []) == "The request was refused."


def test_a_mode_without_its_source_says_which() -> None:
    said = sentence(422, _error("source", "value_error", "mode analyze needs a source: send source_text, or ..."))
    assert said == "An analysis needs a source: paste the text or choose a file (.txt, .md or .docx)."
