"""A rewrite's source, inline (JSON `source_text`) or uploaded (multipart file part `source`): the
gateway stores it verbatim with its job, or refuses it with a 4xx naming the field and stores nothing.
What the pipeline makes of it is in test_rewrite.py."""

import hashlib
import io
import json
import zipfile
from pathlib import Path

import docx
import pytest
from fastapi.testclient import TestClient

from contracts.wordcount import count_words
from services.gateway.config import GatewaySettings
from services.gateway.main import create_app
from services.gateway.auth import secret_hash
from services.gateway.sources import DOCX
from tests.integration.dbread import fetch as query

ESSAY = Path(__file__).resolve().parents[1] / "data" / "source_essay.md"
REWRITE = {"mode": "rewrite", "title": "Rewrite", "instructions": "Condense this to half its length.",
           "target_words": 50}
MIXED = "Kanäle und Schleusen — «écluses», naïve café.\n\n運河の歴史。大運河は長い。\n\n한국어 문장 😀 end.\n"


def stored_source(database_url: str, job_id: str):
    rows = query(database_url, "SELECT s.*, j.mode FROM gateway.sources s JOIN gateway.jobs j ON j.id = s.job_id"
                               " WHERE s.job_id = $1::uuid", job_id)
    assert len(rows) == 1
    return rows[0]


def jobs_of(database_url: str, token: str) -> int:
    rows = query(database_url, "SELECT count(*) AS n FROM gateway.jobs j JOIN gateway.api_tokens t"
                               " ON t.user_id = j.user_id WHERE t.token_hash = $1", secret_hash(token))
    return rows[0]["n"]


def assert_describes(row, text: str) -> None:
    encoded = text.encode()
    assert row["text"] == text
    assert (row["bytes"], row["words"], row["sha256"]) == (
        len(encoded), count_words(text), hashlib.sha256(encoded).hexdigest())


def word_file(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for cells, row in zip(table, grid.rows):
            for text, cell in zip(cells, row.cells):
                cell.text = text
    saved = io.BytesIO()
    document.save(saved)
    return saved.getvalue()


def upload(client, name: str, content: bytes, **fields):
    form = {k: str(v) for k, v in (REWRITE | fields).items()}
    return client.http.post("/v1/jobs", data=form, files={"source": (name, content, "application/octet-stream")})


def refusal(response, status: int, field: str) -> str:
    assert response.status_code == status, response.text
    errors = response.json()["detail"]
    assert any(field in error["loc"] for error in errors), errors
    return " ".join(error["msg"] for error in errors)


def test_inline_source_text_is_stored_verbatim_with_its_counts(client, database_url) -> None:
    response = client.http.post("/v1/jobs", json=REWRITE | {"source_text": MIXED})
    assert response.status_code == 202, response.text
    row = stored_source(database_url, response.json()["id"])
    assert_describes(row, MIXED)
    assert (row["mode"], row["filename"], row["media_type"]) == ("rewrite", None, "text/plain")


def test_job_requested_carries_the_source_word_count(client, database_url) -> None:
    job_id = client.submit(50, mode="rewrite", source_text=MIXED)
    rows = query(database_url, "SELECT (payload->'data'->>'source_words')::int AS words FROM gateway.outbox"
                               " WHERE type = 'job.requested' AND payload->>'job_id' = $1", job_id)
    assert [r["words"] for r in rows] == [count_words(MIXED)]


def test_uploaded_markdown_essay_is_stored_verbatim(client, database_url) -> None:
    content = ESSAY.read_bytes()
    response = upload(client, "source_essay.md", content, target_words=8000)
    assert response.status_code == 202, response.text
    row = stored_source(database_url, response.json()["id"])
    assert_describes(row, content.decode())
    assert (row["filename"], row["media_type"]) == ("source_essay.md", "text/markdown")
    assert 3500 <= row["words"] <= 4500


def test_uploaded_docx_is_stored_as_its_text(client, database_url) -> None:
    paragraphs = ["Kanäle und Schleusen.", "", "運河の歴史。大運河は長い。", "Line one\nLine two\twith a tab."]
    content = word_file(paragraphs, table=[["Lock", "Rise"], ["Gatun", "26 m"]])
    response = upload(client, "Canals.DOCX", content, target_words=40)
    assert response.status_code == 202, response.text
    row = stored_source(database_url, response.json()["id"])
    expected = ("Kanäle und Schleusen.\n\n運河の歴史。大運河は長い。\n\nLine one\nLine two\twith a tab."
                "\n\nLock\tRise\nGatun\t26 m")
    assert_describes(row, expected)
    assert (row["filename"], row["media_type"]) == ("Canals.DOCX", DOCX)


def test_crlf_and_cr_newlines_are_stored_as_lf(client, database_url) -> None:
    response = upload(client, "notes.TXT", b"Line one\r\nLine two\rLine three\r\n\r\nEnd.")
    assert response.status_code == 202, response.text
    row = stored_source(database_url, response.json()["id"])
    assert_describes(row, "Line one\nLine two\nLine three\n\nEnd.")
    assert row["media_type"] == "text/plain"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (REWRITE, "source_text", "needs a source"),
        (REWRITE | {"mode": "generate", "source_text": "Some text."}, "source_text", "only used by mode rewrite"),
        (REWRITE | {"source_text": " \n\t\r\n "}, "source_text", "empty"),
        (REWRITE | {"source_text": "text with a \x00 NUL"}, "source_text", "binary"),
        (REWRITE | {"source_text": "\x1b[0m\x07" * 40 + " a few words"}, "source_text", "binary"),
        (REWRITE | {"source_text": "lone surrogate \ud800 here"}, "source_text", "not valid UTF-8"),
        (REWRITE | {"source_text": "w " * 500_001}, "source_text", "500001 words"),
        (REWRITE | {"source_text": 42}, "source_text", "string"),
    ],
    ids=["rewrite-without-source", "generate-with-source", "empty", "nul", "controls", "surrogate", "too-many-words",
         "not-a-string"],
)
def test_bad_inline_source_is_refused_and_stores_nothing(client, database_url, body, field, message) -> None:
    before = jobs_of(database_url, client.token)
    # Encoded here, escaping non-ASCII, so that a lone surrogate can be sent at all.
    response = client.http.post("/v1/jobs", content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert message in refusal(response, 422, field)
    assert jobs_of(database_url, client.token) == before


@pytest.mark.parametrize("field", ["title", "instructions", "model"])
def test_lone_surrogate_in_a_text_field_is_refused_with_422_not_500(client, database_url, field) -> None:
    before = jobs_of(database_url, client.token)
    body = json.dumps(REWRITE | {"source_text": "A text.", field: "bad \ud800"})
    response = client.http.post("/v1/jobs", content=body, headers={"Content-Type": "application/json"})
    assert "unicode" in refusal(response, 422, field)
    assert jobs_of(database_url, client.token) == before


def test_lone_surrogate_in_a_sign_up_name_is_refused_with_422_not_500(client) -> None:
    response = client.http.post("/v1/users", content=json.dumps({"name": "bad \ud800"}),
                                headers={"Content-Type": "application/json", "Authorization": ""})
    assert "unicode" in refusal(response, 422, "name")


@pytest.mark.parametrize(
    ("name", "content", "fields", "status", "message"),
    [
        ("essay.txt", b"A fine text.", {"mode": "generate"}, 422, "only used by mode rewrite"),
        ("empty.md", b"", {}, 422, "empty"),
        ("blank.txt", b"\r\n  \t\r\n", {}, 422, "empty"),
        ("latin1.txt", "café au lait, crème brûlée".encode("latin-1"), {}, 422, "not valid UTF-8"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", {}, 422, "not valid UTF-8"),
        ("data.txt", b"header\x00\x00\x00\x01\x02\x03 payload", {}, 422, "binary"),
        ("essay.docx", b"PK\x03\x04 a zip archive", {}, 422, "not a readable .docx"),
        ("essay.docx", b"A plain text file named .docx", {}, 422, "not a readable .docx"),
        ("essay.docx", None, {}, 422, "not a readable .docx"),
        ("empty.docx", b"", {}, 422, "not a readable .docx"),
        ("blank.docx", "blank", {}, 422, "empty"),
        ("essay.pdf", b"%PDF-1.7", {}, 415, "only .txt, .md and .docx"),
        ("essay", b"No extension.", {}, 415, "only .txt, .md and .docx"),
    ],
    ids=["generate-with-file", "empty", "blank", "latin1", "png", "nul", "docx-not-zip", "docx-text",
         "docx-truncated", "docx-empty-file", "docx-no-text", "pdf", "no-extension"],
)
def test_bad_upload_is_refused_and_stores_nothing(client, database_url, name, content, fields, status,
                                                  message) -> None:
    if content is None:
        content = word_file(["A paragraph long enough to be worth cutting."] * 20)[:700]
    elif content == "blank":
        content = word_file(["   ", ""])
    before = jobs_of(database_url, client.token)
    assert message in refusal(upload(client, name, content, **fields), status, "source")
    assert jobs_of(database_url, client.token) == before


def test_multipart_rewrite_without_a_file_is_refused(client, database_url) -> None:
    before = jobs_of(database_url, client.token)
    form = {k: str(v) for k, v in REWRITE.items()}
    response = client.http.post("/v1/jobs", data=form, files={"source": ("", b"", "application/octet-stream")})
    assert "needs a source" in refusal(response, 422, "source")
    assert jobs_of(database_url, client.token) == before


def test_multipart_fields_are_validated_like_json(client) -> None:
    assert refusal(upload(client, "a.txt", b"Text.", target_words="10.5"), 422, "target_words")
    assert refusal(upload(client, "a.txt", b"Text.", mode="poem"), 422, "mode")
    response = client.http.post("/v1/jobs", data={"mode": "generate", "instructions": "x", "target_words": "5"},
                                files={"other": ("a.txt", b"x", "text/plain")})
    assert refusal(response, 422, "other")


def test_multipart_generate_job_is_accepted_with_an_unused_file_input(client, database_url) -> None:
    # As a browser sends a form whose file input was left empty: a part with filename="".
    boundary = "longformboundary"
    parts = [("mode", "generate"), ("instructions", "An essay about locks."), ("target_words", "20"), ("model", "")]
    body = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                   for name, value in parts)
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="source"; filename=""\r\n'
             f"Content-Type: application/octet-stream\r\n\r\n\r\n--{boundary}--\r\n")
    response = client.http.post("/v1/jobs", content=body.encode(),
                                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 202, response.text
    assert not query(database_url, "SELECT 1 FROM gateway.sources WHERE job_id = $1::uuid", response.json()["id"])


def test_multipart_source_given_as_a_plain_field_is_refused(client) -> None:
    form = {k: str(v) for k, v in REWRITE.items()}
    response = client.http.post("/v1/jobs", data=form, files={"source": (None, "inline text")})
    assert "source_text" in refusal(response, 422, "source")


def test_other_content_types_are_refused_with_415(client) -> None:
    response = client.http.post("/v1/jobs", content=b"mode=rewrite", headers={"Content-Type": "text/plain"})
    assert "application/json" in refusal(response, 415, "content-type")


def test_openapi_documents_json_and_multipart_bodies(client) -> None:
    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    body = response.json()["paths"]["/v1/jobs"]["post"]["requestBody"]["content"]
    assert "source_text" in body["application/json"]["schema"]["properties"]
    assert body["multipart/form-data"]["schema"]["properties"]["source"]["type"] == "string"
    assert body["application/json"]["schema"]["properties"]["mode"]["enum"] == ["generate", "rewrite", "analyze"]


def test_source_over_the_size_cap_is_refused_with_413(stack, database_url) -> None:
    settings = GatewaySettings(database_url=stack.config.database_url, nats_url=stack.config.nats_url,
                               bus_prefix=stack.config.bus_prefix, max_source_bytes=1000, max_body_bytes=20_000)
    with TestClient(create_app(settings)) as gateway:
        token = gateway.post("/v1/users", json={"name": "small"}).json()["token"]
        gateway.headers["Authorization"] = f"Bearer {token}"
        form = {k: str(v) for k, v in REWRITE.items()}
        at_cap = gateway.post("/v1/jobs", data=form, files={"source": ("ok.txt", b"word " * 200, "text/plain")})
        assert at_cap.status_code == 202, at_cap.text
        before = jobs_of(database_url, token)
        too_big = gateway.post("/v1/jobs", data=form, files={"source": ("big.txt", b"word " * 1000, "text/plain")})
        assert "max_source_bytes" in refusal(too_big, 413, "source")
        assert too_big.json()["message"] == ("The source is over this server's limit of 1,000 bytes. Split it or"
                                             " condense it first.")
        inline = gateway.post("/v1/jobs", json=REWRITE | {"source_text": "é" * 501})
        assert "max_source_bytes" in refusal(inline, 413, "source_text")
        declared = gateway.post("/v1/jobs", json=REWRITE | {"source_text": "x" * 30_000})
        assert "max_body_bytes" in refusal(declared, 413, "body")
        assert declared.json()["message"].startswith("The request is over this server's limit of 19.5 KB.")
        streamed = gateway.post("/v1/jobs", content=(b"x" * 10_000 for _ in range(5)),
                                headers={"Content-Type": "application/json"})
        assert "max_body_bytes" in refusal(streamed, 413, "body")
        assert streamed.json()["message"].startswith("The request is over this server's limit of 19.5 KB.")
        assert jobs_of(database_url, token) == before


def test_docx_whose_text_is_over_the_size_cap_is_refused_with_413(stack, database_url) -> None:
    """A .docx (~37 KB at least) under the cap whose text, once unpacked, is over it."""
    settings = GatewaySettings(database_url=stack.config.database_url, nats_url=stack.config.nats_url,
                               bus_prefix=stack.config.bus_prefix, max_source_bytes=50_000, max_body_bytes=100_000)
    form = {k: str(v) for k, v in REWRITE.items()}
    with TestClient(create_app(settings)) as gateway:
        token = gateway.post("/v1/users", json={"name": "small"}).json()["token"]
        gateway.headers["Authorization"] = f"Bearer {token}"
        at_cap = gateway.post("/v1/jobs", data=form, files={"source": ("ok.docx", word_file(["word " * 9000]), DOCX)})
        assert at_cap.status_code == 202, at_cap.text
        before = jobs_of(database_url, token)
        content = word_file(["word " * 12000])
        assert len(content) < 50_000
        too_big = gateway.post("/v1/jobs", data=form, files={"source": ("big.docx", content, DOCX)})
        assert "max_source_bytes" in refusal(too_big, 413, "source")
        bomb = gateway.post("/v1/jobs", data=form, files={"source": ("bomb.docx", zip_bomb(), DOCX)})
        assert "unpacks to more" in refusal(bomb, 413, "source")
        assert jobs_of(database_url, token) == before


def zip_bomb() -> bytes:
    """A small .docx with a part that unpacks to 20 MB of zeros."""
    packed = io.BytesIO(word_file(["A short text."]))
    with zipfile.ZipFile(packed, "a", compression=zipfile.ZIP_BZIP2) as archive:
        archive.writestr("word/media/zeros.bin", bytes(20 * 1024 * 1024))
    assert len(packed.getvalue()) < 50_000  # under the cap: only its unpacked size gives it away
    return packed.getvalue()
