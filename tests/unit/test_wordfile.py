"""A .docx source is read without trusting it (services/gateway/wordfile.py): a corpus of hostile
files (zip bombs, a member that lies about its size, nested zips, a huge text run, markup made to
keep a parser busy, entity expansion, external entities, an .exe) is refused or read within its
limits, and a real Word file reads as python-docx reads it."""

import io
import random
import struct
import tracemalloc
import zipfile

import docx
import pytest

from services.gateway.wordfile import TooLarge, Unreadable, docx_blocks

CAP = 8 * 1024 * 1024
NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def word_file(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    saved = io.BytesIO()
    document.save(saved)
    return saved.getvalue()


def with_document(xml: bytes, extra: dict[str, bytes] | None = None, method=zipfile.ZIP_DEFLATED) -> bytes:
    """A real .docx with its word/document.xml replaced by `xml` (and more members added)."""
    packed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(word_file(["x"]))) as source, zipfile.ZipFile(packed, "w", method) as target:
        for entry in source.infolist():
            target.writestr(entry.filename, xml if entry.filename == "word/document.xml" else source.read(entry))
        for name, content in (extra or {}).items():
            target.writestr(name, content)
    return packed.getvalue()


def body(inner: str) -> bytes:
    return f'<?xml version="1.0"?><w:document {NS}><w:body>{inner}</w:body></w:document>'.encode()


def paragraph(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def test_a_word_file_reads_as_python_docx_reads_it() -> None:
    document = docx.Document()
    document.add_paragraph("Kanäle und Schleusen.")
    run = document.add_paragraph("Line one").add_run()
    run.add_break()
    run.add_text("Line two\twith a tab.")
    grid = document.add_table(rows=2, cols=2)
    for cells, row in zip([["Lock", "Rise"], ["Gatun", "26 m"]], grid.rows):
        for text, cell in zip(cells, row.cells):
            cell.text = text
    saved = io.BytesIO()
    document.save(saved)
    expected = [p.text for p in document.paragraphs] + ["Lock\tRise\nGatun\t26 m"]
    assert docx_blocks(saved.getvalue(), CAP) == expected


def test_text_boxes_deleted_text_and_page_breaks_are_left_out() -> None:
    xml = body('<w:p><w:r><w:t>Kept</w:t><w:br w:type="page"/></w:r><w:del><w:r><w:delText>gone</w:delText>'
               '<w:t>gone too</w:t></w:r></w:del><w:r><w:pict><w:txbxContent>' + paragraph("boxed") +
               '</w:txbxContent></w:pict></w:r><w:r><w:t xml:space="preserve"> text.</w:t></w:r></w:p>')
    assert docx_blocks(with_document(xml), CAP) == ["Kept text."]


def test_a_member_that_unpacks_a_thousand_times_its_size_is_refused_unread() -> None:
    bomb = with_document(body(paragraph("short")), {"word/media/zeros.bin": bytes(50 * 1024 * 1024)})
    assert len(bomb) < 200_000
    with pytest.raises(TooLarge, match="times its packed size"):
        docx_blocks(bomb, CAP)


def test_an_archive_declaring_more_than_the_cap_allows_is_refused_unread() -> None:
    many = with_document(body(paragraph("short")), {f"word/media/{i}.bin": bytes(2 * 1024 * 1024) for i in range(50)})
    with pytest.raises(TooLarge, match="unpacks to more than this server accepts"):
        docx_blocks(many, CAP)


def test_a_document_that_lies_about_its_size_is_refused_at_what_it_said() -> None:
    honest = with_document(body(paragraph("word " * 200_000)), method=zipfile.ZIP_STORED)
    lying = _declared_size(honest, "word/document.xml", 1000)
    with pytest.raises(Unreadable, match="cannot be unpacked|not well-formed"):
        docx_blocks(lying, CAP)


def _declared_size(archive: bytes, name: str, size: int) -> bytes:
    """The archive with `name`'s uncompressed size rewritten to `size` in both its headers."""
    data = bytearray(archive)
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        local = z.getinfo(name).header_offset
    data[local + 22:local + 26] = struct.pack("<I", size)  # the local file header
    position = data.find(b"PK\x01\x02")  # then its entry in the central directory
    while position != -1:
        length = struct.unpack("<H", data[position + 28:position + 30])[0]
        if data[position + 46:position + 46 + length] == name.encode():
            data[position + 24:position + 28] = struct.pack("<I", size)
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(data)


def test_a_nested_zip_is_never_unpacked() -> None:
    inner = with_document(body(paragraph("inner")), {"word/media/zeros.bin": bytes(5 * 1024 * 1024)})
    nested = with_document(body(paragraph("The outer text.")), {"word/embeddings/inner.docx": inner * 3})
    assert docx_blocks(nested, CAP) == ["The outer text."]


def test_a_huge_text_run_stops_at_the_cap() -> None:
    letters = random.Random(7).choices("abcdefghij klmnopqrstuvwxyz", k=CAP + 10)  # packs too poorly to be a bomb
    huge = with_document(body(f"<w:p><w:r><w:t>{''.join(letters)}</w:t></w:r></w:p>"))
    with pytest.raises(TooLarge, match="its text is over this server's limit"):
        docx_blocks(huge, CAP)


def test_markup_made_to_keep_a_parser_busy_is_refused_early() -> None:
    busy = with_document(body("<w:p><w:r><w:rPr><w:b/></w:rPr></w:r></w:p>" * 200_000 + paragraph("end")))
    with pytest.raises(Unreadable, match="times more markup than text"):
        docx_blocks(busy, CAP)


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
                             for i in range(1, 10))
                  + f']><w:document {NS}><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>'.encode())
EXTERNAL = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
            + f'<w:document {NS}><w:body><w:p><w:r><w:t>&secret;</w:t></w:r></w:p></w:body></w:document>'.encode())


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_a_document_with_a_dtd_is_refused_before_any_entity_is_expanded(xml) -> None:
    with pytest.raises(Unreadable, match="declares a DTD"):
        docx_blocks(with_document(xml), CAP)


@pytest.mark.parametrize("raw", [b"MZ\x90\x00" + bytes(4000), b"PK\x03\x04 half a zip", b"",
                                 with_document(b"<w:document><unclosed>")],
                         ids=["exe", "truncated-zip", "empty", "broken-xml"])
def test_a_file_that_is_no_docx_is_refused_as_unreadable(raw) -> None:
    with pytest.raises(Unreadable):
        docx_blocks(raw, CAP)


def test_a_zip_without_a_document_is_refused_as_unreadable() -> None:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(Unreadable, match="no word/document.xml"):
        docx_blocks(packed.getvalue(), CAP)


def test_reading_holds_a_block_and_the_text_not_the_unpacked_file() -> None:
    text = "word " * 300_000  # 1.5 MB of text in about 7 MB of XML
    large = with_document(body("".join(f'<w:p><w:pPr><w:spacing w:after="0"/></w:pPr><w:r><w:rPr><w:b/></w:rPr>'
                                       f'<w:t>{text[i:i + 100]}</w:t></w:r></w:p>' for i in range(0, len(text), 100))))
    tracemalloc.start()  # slows the parse several times over: the reading time limit is not what is tested here
    blocks = docx_blocks(large, CAP, seconds=600)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert sum(len(b) for b in blocks) == len(text)
    assert peak < 4 * len(text), peak  # the text (as strings and parts), never the XML
