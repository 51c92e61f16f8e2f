"""A job's document as a download, streamed from the database: the finished one from
assembler.documents_v1 (its body read slice by slice, its headings put in where they stand), or
what is written so far (`?partial=true`) from generator.chunks_v1 in plan order, chunk by chunk
(services/gateway/written.py). Both reach the formats below as one stream of text pieces and
headings (contracts/headings.py), so every format has the same headings and body words.

- txt: the title, then the body with numbered heading lines ("2.3 The Delta Towns"), a blank
  line around each.
- md: `#` for the title, `##`/`###`/`####` for the plan's levels.
- docx: the Title and Heading 1-3 styles and a table of contents, built with python-docx. A .docx
  cannot be written in parts (python-docx holds the whole XML tree until it saves), so this is
  the one download whose memory grows with the document: about 6x its text (measured: +17 MB of
  peak RSS for 500,000 words, 2.8 MB of text). It is built in worker threads, saved to a
  temporary file rather than to memory, streamed from there in blocks and removed."""

import re
import tempfile
import unicodedata
from urllib.parse import quote
from typing import AsyncIterator, BinaryIO, Union

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from starlette.concurrency import run_in_threadpool

from contracts.headings import Heading
from services.gateway.sources import DOCX

MEDIA_TYPES = {"txt": "text/plain; charset=utf-8", "md": "text/markdown; charset=utf-8", "docx": DOCX}
Piece = Union[str, Heading]  # a stretch of body text, or a heading standing before what follows
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # what XML 1.0 cannot hold
_NOT_A_NAME = re.compile(r"[\W_]+")  # a name keeps letters and digits; the rest are hyphens between them
_PARAGRAPHS_PER_BATCH = 200
_BLOCK_BYTES = 64 * 1024
_DOCX_LEVELS = 3  # Heading 1-3; a deeper level is shown as the third


def title_line(title: str) -> str:
    return " ".join(title.split()) or "Untitled"


def file_name(title: str, job_id: object, format: str, partial: bool) -> str:
    """The attachment named from the title (`rivers-of-the-north.md`): an ASCII name for every
    client, and the title's own letters in UTF-8 (RFC 6266) for those that read it."""
    stem = "-".join(_NOT_A_NAME.split(title.lower()))[:80].strip("-") or str(job_id)
    plain = "-".join(_NOT_A_NAME.split(unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()))
    suffix = f"{'-partial' if partial else ''}.{format}"
    return (f'attachment; filename="{plain.strip("-") or job_id}{suffix}";'
            f" filename*=UTF-8''{quote(stem + suffix)}")


async def rendered(format: str, title: str, pieces: AsyncIterator[Piece], contents: list[Heading],
                   note: str) -> AsyncIterator[bytes]:
    if format == "docx":
        return await as_docx(title, pieces, contents, note)
    return (as_text if format == "txt" else as_markdown)(title, pieces, note)


async def as_text(title: str, pieces: AsyncIterator[Piece], note: str = "") -> AsyncIterator[bytes]:
    yield f"{title_line(title)}\n\n".encode()
    if note:
        yield f"[{note}]\n\n".encode()
    async for piece in pieces:
        yield (f"{piece.number} {piece.title}\n\n" if isinstance(piece, Heading) else piece).encode()
    yield b"\n"


async def as_markdown(title: str, pieces: AsyncIterator[Piece], note: str = "") -> AsyncIterator[bytes]:
    yield f"# {title_line(title)}\n\n".encode()
    if note:
        yield f"> {note}\n\n".encode()
    async for piece in pieces:
        yield (f"{'#' * min(piece.level + 1, 6)} {piece.title}\n\n" if isinstance(piece, Heading) else piece).encode()
    yield b"\n"


async def paragraphs(pieces: AsyncIterator[Piece]) -> AsyncIterator[Piece]:
    """The document's paragraphs (chunks are joined with a blank line) and headings, however the
    slices cut the text."""
    rest = ""
    async for piece in pieces:
        if isinstance(piece, Heading):
            if rest.strip():
                yield rest
            rest = ""
            yield piece
            continue
        *whole, rest = (rest + piece).split("\n\n")
        for paragraph in whole:
            if paragraph.strip():
                yield paragraph
    if rest.strip():
        yield rest


async def as_docx(title: str, pieces: AsyncIterator[Piece], contents: list[Heading],
                  note: str = "") -> AsyncIterator[bytes]:
    """The document as .docx: built first (errors surface before the answer starts), then streamed."""
    saved = await _built_docx(title, paragraphs(pieces), contents, note)
    return _streamed(saved)


async def _built_docx(title: str, items: AsyncIterator[Piece], contents: list[Heading], note: str) -> BinaryIO:
    document = docx.Document()
    document.core_properties.title = _xml_safe(title_line(title))[:255]
    document.add_heading(_xml_safe(title_line(title)), level=0)
    if note:
        document.add_paragraph().add_run(_xml_safe(note)).italic = True
    if contents:
        _add_contents(document, contents)
    batch: list[Piece] = []
    async for item in items:
        batch.append(item)
        if len(batch) == _PARAGRAPHS_PER_BATCH:
            await run_in_threadpool(_add_paragraphs, document, batch)
            batch = []
    await run_in_threadpool(_add_paragraphs, document, batch)
    saved = tempfile.TemporaryFile()
    try:
        await run_in_threadpool(document.save, saved)
    except BaseException:
        saved.close()
        raise
    saved.seek(0)
    return saved


def _add_paragraphs(document, items: list[Piece]) -> None:
    for item in items:
        if isinstance(item, Heading):
            document.add_heading(_xml_safe(item.title), level=min(item.level, _DOCX_LEVELS))
        else:
            document.add_paragraph(_xml_safe(item))  # python-docx turns \n into a line break and \t into a tab


def _add_contents(document, contents: list[Heading]) -> None:
    """A table of contents: Word's TOC field over Heading 1-3, holding the headings as its current
    result, so it reads right before any update (Word refreshes it on open: updateFields)."""
    document.add_paragraph("Contents", style="TOC Heading" if _has_style(document, "TOC Heading") else None)
    for i, heading in enumerate(contents):
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.left_indent = Pt(18 * (min(heading.level, _DOCX_LEVELS) - 1))
        if i == 0:
            _field_char(paragraph, "begin")
            instruction = OxmlElement("w:instrText")
            instruction.set(qn("xml:space"), "preserve")
            instruction.text = ' TOC \\o "1-3" \\h \\z \\u '
            paragraph.add_run()._r.append(instruction)
            _field_char(paragraph, "separate")
        paragraph.add_run(_xml_safe(f"{heading.number} {heading.title}"))
        if i == len(contents) - 1:
            _field_char(paragraph, "end")
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    document.settings.element.append(update)


def _field_char(paragraph, kind: str) -> None:
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    paragraph.add_run()._r.append(char)


def _has_style(document, name: str) -> bool:
    return any(style.name == name for style in document.styles)


def _xml_safe(text: str) -> str:
    return _NOT_IN_XML.sub("", text)


async def _streamed(saved: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while block := await run_in_threadpool(saved.read, _BLOCK_BYTES):
            yield block
    finally:
        saved.close()
