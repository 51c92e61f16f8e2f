"""A rewrite's source document: accepted only as UTF-8 text (or a .docx, whose text is taken out)
of a bounded size and word count, with its newlines normalised, before it is stored with its job."""

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePath

from fastapi import HTTPException, UploadFile

from contracts.messages import MAX_TARGET_WORDS
from contracts.wordcount import count_words
from services.gateway import wordfile

MAX_SOURCE_WORDS = MAX_TARGET_WORDS  # the longest document Longform handles, in and out
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MEDIA_TYPES = {".txt": "text/plain", ".md": "text/markdown", ".docx": DOCX}
_BLOCK_BYTES = 1024 * 1024
_BOM = "\ufeff"
_NEWLINES = re.compile(r"\r\n?")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # C0 and C1 controls less \t \n \r
_MAX_CONTROL_SHARE = 0.05  # page breaks or stray escapes are fine; a text this full of them is not one


@dataclass(frozen=True)
class Source:
    text: str
    filename: str | None
    media_type: str
    bytes: int
    words: int
    sha256: str


def rejected(status: int, field: str, message: str, kind: str, where: str = "body") -> HTTPException:
    """The shape FastAPI gives its own validation errors, so clients read every refusal alike."""
    return HTTPException(status, [{"type": kind, "loc": [where, field], "msg": message}])


def too_large(field: str, cap: int) -> HTTPException:
    return rejected(413, field, f"source is over this server's limit of {cap} bytes of UTF-8 (max_source_bytes)",
                    "too_large")


def media_type_for(filename: str) -> str:
    media_type = MEDIA_TYPES.get(PurePath(filename).suffix.lower())
    if media_type is None:
        raise rejected(415, "source", f"{filename!r}: only .txt, .md and .docx sources are accepted", "media_type")
    return media_type


async def read_upload(upload: UploadFile, cap: int) -> bytes:
    """The upload's bytes, read block by block and given up on as soon as they pass the cap."""
    blocks, size = [], 0
    while block := await upload.read(_BLOCK_BYTES):
        size += len(block)
        if size > cap:
            raise too_large("source", cap)
        blocks.append(block)
    return b"".join(blocks)


def parse_source(raw: bytes, *, field: str, filename: str | None, media_type: str) -> Source:
    text = _NEWLINES.sub("\n", _decoded(raw, field))
    if not text.strip():
        raise rejected(422, field, "source is empty", "value_error")
    words = count_words(text)
    if words > MAX_SOURCE_WORDS:
        raise rejected(422, field, f"source has {words} words; the limit is {MAX_SOURCE_WORDS}", "value_error")
    encoded = text.encode()
    return Source(text, filename, media_type, len(encoded), words, hashlib.sha256(encoded).hexdigest())


def parse_docx(raw: bytes, *, field: str, filename: str, cap: int) -> Source:
    """The text of a Word document: its paragraphs and table rows in order, a blank line between."""
    text = "\n\n".join(block for block in _docx_blocks(raw, field, cap) if block.strip())
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) > cap:
        raise rejected(413, field, f"the text of {filename!r} is over this server's limit of {cap} bytes of UTF-8"
                       " (max_source_bytes)", "too_large")
    return parse_source(encoded, field=field, filename=filename, media_type=DOCX)


def _docx_blocks(raw: bytes, field: str, cap: int) -> list[str]:
    try:
        return wordfile.docx_blocks(raw, cap)
    except wordfile.TooLarge as exc:
        raise rejected(413, field, f"{exc} (max_source_bytes is {cap} bytes of text)", "too_large") from None
    except wordfile.Unreadable as exc:
        raise rejected(422, field, f"source is not a readable .docx file: {exc}", "value_error") from None


def _decoded(raw: bytes, field: str) -> str:
    try:
        text = raw.decode("utf-8").removeprefix(_BOM)  # a byte order mark is not part of the text
    except UnicodeDecodeError:
        raise rejected(422, field, "source is not valid UTF-8 text", "value_error") from None
    if "\x00" in text:
        raise rejected(422, field, "source looks binary: it contains NUL bytes", "value_error")
    controls = sum(1 for _ in _CONTROL.finditer(text))
    if controls > _MAX_CONTROL_SHARE * len(text):
        raise rejected(422, field, f"source looks binary: {controls} of its {len(text)} characters are"
                       " control characters", "value_error")
    return text
