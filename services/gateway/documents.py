"""A finished job's document as a download, read from assembler.documents_v1 slice by slice.

- txt: the document as stored.
- md: the title as a heading, then the document's paragraphs. The section headings of the plan
  are not added: the assembled document does not record where each section starts, and the plan
  (planner.sections) is not the gateway's to read.
- docx: built with python-docx. A .docx cannot be written in parts (python-docx holds the whole
  XML tree until it saves), so this is the one download whose memory grows with the document:
  about 6x its text (measured: +17 MB of peak RSS for 500,000 words, 2.8 MB of text). It is
  built in worker threads, saved to a temporary file rather than to memory, streamed from there
  in blocks and removed."""

import re
import tempfile
from typing import AsyncIterator, BinaryIO

import docx
from starlette.concurrency import run_in_threadpool

from services.gateway.sources import DOCX

MEDIA_TYPES = {"txt": "text/plain; charset=utf-8", "md": "text/markdown; charset=utf-8", "docx": DOCX}
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # what XML 1.0 cannot hold
_PARAGRAPHS_PER_BATCH = 200
_BLOCK_BYTES = 64 * 1024


def as_markdown(title: str, slices: AsyncIterator[str]) -> AsyncIterator[bytes]:
    async def pieces() -> AsyncIterator[bytes]:
        yield f"# {' '.join(title.split()) or 'Untitled'}\n\n".encode()
        async for piece in slices:
            yield piece.encode()
        yield b"\n"

    return pieces()


async def paragraphs(slices: AsyncIterator[str]) -> AsyncIterator[str]:
    """The document's paragraphs (the assembler joins chunks with a blank line), however the slices cut them."""
    rest = ""
    async for piece in slices:
        *whole, rest = (rest + piece).split("\n\n")
        for paragraph in whole:
            if paragraph.strip():
                yield paragraph
    if rest.strip():
        yield rest


async def as_docx(title: str, slices: AsyncIterator[str]) -> AsyncIterator[bytes]:
    """The document as .docx: built first (errors surface before the answer starts), then streamed."""
    saved = await _built_docx(title, paragraphs(slices))
    return _streamed(saved)


async def _built_docx(title: str, texts: AsyncIterator[str]) -> BinaryIO:
    document = docx.Document()
    document.core_properties.title = _xml_safe(title)[:255]
    document.add_heading(_xml_safe(title), level=0)
    batch: list[str] = []
    async for text in texts:
        batch.append(text)
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


def _add_paragraphs(document, texts: list[str]) -> None:
    for text in texts:
        document.add_paragraph(_xml_safe(text))  # python-docx turns \n into a line break and \t into a tab


def _xml_safe(text: str) -> str:
    return _NOT_IN_XML.sub("", text)


async def _streamed(saved: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while block := await run_in_threadpool(saved.read, _BLOCK_BYTES):
            yield block
    finally:
        saved.close()
