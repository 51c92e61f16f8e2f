"""The text of an uploaded .docx, read so that no file can exhaust the gateway: the archive's
directory is checked first (every member's declared size against the cap, and its compression
ratio), then only `word/document.xml` is unpacked, in blocks, straight into a streaming XML parser
that refuses any DTD (so no entity expansion, no external entity) and stops as soon as the text,
the unpacked bytes, their share of markup or the time pass their limits. Memory stays at a block and the text, whatever
the file; nothing else in the archive (pictures, embedded files, nested zips) is ever unpacked.

What is taken matches what python-docx gives for the body: each paragraph's runs (w:t, w:tab as
a tab, w:br and w:cr as a newline, a page or column break as nothing), tables as rows of cells
joined by tabs, each table one block; text boxes and deleted text are left out."""

import io
import re
import time
import zipfile
from dataclasses import dataclass, field
from xml.parsers import expat

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main "
DOCUMENT = "word/document.xml"
BLOCK = 64 * 1024
MAX_RATIO = 1000  # a member unpacking to more than this many times its packed size is a bomb, not text
RATIO_FLOOR = 1024 * 1024  # ... once it is over this size: tiny parts may compress far better
PARTS_ALLOWANCE = 16 * 1024 * 1024  # styles, theme, fonts, pictures: an empty .docx unpacks to ~0.8 MB
MAX_XML_PER_TEXT = 10  # document.xml is at most this many times the text it may hold ...
MAX_MARKUP = 50  # ... and, past MARKUP_FLOOR, at most this many times the text read so far (Word's
MARKUP_FLOOR = 1024 * 1024  # own files run at 3-30): more is markup made to keep a parser busy
SECONDS = 5.0
# What lies between tags, counted in C on raw blocks (a tag cut by a block's end counts a little
# wrong, which does not matter): a file that is nearly all markup is refused before a parser
# spends Python calls on its elements.
_TAG = re.compile(rb"<[^>]*>")


class Unreadable(ValueError):
    """Not a .docx this server reads (corrupt, not a zip, has a DTD, too slow)."""


class TooLarge(ValueError):
    """Its text, or what it unpacks to, is over the limits."""


def docx_blocks(raw: bytes, cap: int, seconds: float = SECONDS) -> list[str]:
    """The body's blocks of text (paragraphs and tables) in order. `cap` bounds the text in bytes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise Unreadable(f"not a zip archive ({type(exc).__name__})") from None
    with archive:
        _check_directory(archive, cap)
        try:
            member = archive.getinfo(DOCUMENT)
        except KeyError:
            raise Unreadable(f"it has no {DOCUMENT}") from None
        return _parsed(archive, member, cap, time.monotonic() + seconds)


def _check_directory(archive: zipfile.ZipFile, cap: int) -> None:
    entries = archive.infolist()
    if sum(entry.file_size for entry in entries) > MAX_XML_PER_TEXT * cap + PARTS_ALLOWANCE:
        raise TooLarge("the .docx unpacks to more than this server accepts")
    for entry in entries:
        if entry.file_size > RATIO_FLOOR and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise TooLarge(f"the .docx unpacks to more than this server accepts ({entry.filename!r} is"
                           f" {entry.file_size // max(entry.compress_size, 1)} times its packed size)")


def _parsed(archive: zipfile.ZipFile, member: zipfile.ZipInfo, cap: int, deadline: float) -> list[str]:
    body = _Body(cap)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler, parser.EndElementHandler = body.start, body.end
    parser.CharacterDataHandler = body.characters
    parser.buffer_text = True
    limit, unpacked, text, held = MAX_XML_PER_TEXT * cap + BLOCK, 0, 0, []
    try:
        with archive.open(member) as stream:
            while block := stream.read(BLOCK):
                unpacked += len(block)
                text += len(_TAG.sub(b"", block))  # a cheap count, before the parser's work
                if unpacked > limit:
                    raise TooLarge("the .docx unpacks to more than this server accepts")
                if unpacked > MARKUP_FLOOR and unpacked > MAX_MARKUP * (text + 1):
                    raise Unreadable(f"its {DOCUMENT} is {unpacked // (text + 1)} times more markup than"
                                     " text, which no word processor writes")
                if time.monotonic() > deadline:
                    raise Unreadable(f"reading it took longer than {SECONDS:g} s")
                held.append(block)  # the first MARKUP_FLOOR bytes wait for that count, before any parsing
                if unpacked > MARKUP_FLOOR:
                    for waiting in held:
                        parser.Parse(waiting, False)
                    held = []
            for waiting in held:
                parser.Parse(waiting, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise Unreadable(f"its {DOCUMENT} is not well-formed XML ({expat.errors.messages.get(exc.code, exc)})") from None
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise Unreadable(f"its {DOCUMENT} cannot be unpacked ({type(exc).__name__})") from None
    return body.blocks


def _no_dtd(*_args) -> None:
    raise Unreadable("it declares a DTD or entities, which a .docx never does")


@dataclass
class _Body:
    cap: int
    blocks: list[str] = field(default_factory=list)
    size: int = 0
    paragraph: list[str] | None = None  # the runs of the paragraph being read
    in_text: bool = False  # inside w:t
    skipping: int = 0  # depth inside a text box or deleted text
    tables: int = 0  # depth of tables: a paragraph in a table goes into its cell
    rows: list[list[str]] = field(default_factory=list)  # the outermost table's rows of cells
    cell: list[str] = field(default_factory=list)  # the paragraphs of the cell being read

    def start(self, name: str, attributes: dict) -> None:
        if self.skipping or name in (W + "txbxContent", W + "del"):
            self.skipping += 1
        elif name == W + "p":
            self.paragraph = []
        elif name == W + "t":
            self.in_text = True
        elif self.paragraph is not None and name in (W + "tab", W + "ptab"):
            self._add("\t")
        elif self.paragraph is not None and name in (W + "br", W + "cr"):
            self._add("" if attributes.get(W + "type") in ("page", "column") else "\n")
        elif name == W + "tbl":
            self.tables += 1
        elif name == W + "tr" and self.tables == 1:
            self.rows.append([])
        elif name == W + "tc" and self.tables == 1:
            self.cell = []

    def end(self, name: str) -> None:
        if self.skipping:  # every element inside a skipped one is skipped with it
            self.skipping -= 1
            return
        if name == W + "t":
            self.in_text = False
        elif name == W + "p" and self.paragraph is not None:
            text, self.paragraph = "".join(self.paragraph), None
            (self.cell.append(text) if self.tables else self.blocks.append(text))
        elif name == W + "tc" and self.tables == 1 and self.rows:
            self.rows[-1].append("\n".join(self.cell))
        elif name == W + "tbl":
            self.tables -= 1
            if self.tables == 0:
                self.blocks.append("\n".join("\t".join(row) for row in self.rows))
                self.rows = []

    def characters(self, data: str) -> None:
        if self.in_text and not self.skipping and self.paragraph is not None:
            self._add(data)

    def _add(self, text: str) -> None:
        self.size += len(text.encode("utf-8", "surrogatepass"))
        if self.size > self.cap:
            raise TooLarge("its text is over this server's limit")
        assert self.paragraph is not None
        self.paragraph.append(text)
