"""A completed job's document downloads as txt, md and docx, each holding the same paragraphs."""

import io

import docx
import pytest
from fastapi.testclient import TestClient

from contracts.wordcount import count_words
from services.gateway.config import GatewaySettings
from services.gateway.main import create_app
from services.gateway.sources import DOCX

TITLE = "Rivers <of> \"Europe\" & 'Asia'"


@pytest.fixture(scope="module")
def finished(stack):
    """One completed job, shared by the tests here: (client, job id, its txt document)."""
    api = stack.client()
    job_id = api.submit(400, title=TITLE)
    assert api.wait(job_id)["status"] == "completed"
    yield api, job_id, api.document(job_id)
    api.close()


def paragraphs_of(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def docx_paragraphs(content: bytes) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(content)).paragraphs]


def test_markdown_is_the_title_as_a_heading_then_the_text(finished) -> None:
    api, job_id, text = finished
    response = api.http.get(f"/v1/jobs/{job_id}/document", params={"format": "md"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="{job_id}.md"'
    assert response.text == f"# {TITLE}\n\n{text}\n"


def test_docx_holds_the_title_and_every_paragraph(finished) -> None:
    api, job_id, text = finished
    response = api.http.get(f"/v1/jobs/{job_id}/document", params={"format": "docx"})
    assert response.status_code == 200
    assert response.headers["content-type"] == DOCX
    assert response.headers["content-disposition"] == f'attachment; filename="{job_id}.docx"'
    document = docx.Document(io.BytesIO(response.content))
    assert document.paragraphs[0].text == TITLE
    assert document.paragraphs[0].style.name == "Title"
    body = [p.text for p in document.paragraphs[1:]]
    assert body == paragraphs_of(text)
    assert count_words("\n\n".join(body)) == count_words(text) >= 400


def test_docx_paragraphs_survive_any_slice_size(stack, finished) -> None:
    """The document is read in slices that cut paragraphs anywhere; the .docx still has them whole."""
    api, job_id, text = finished
    settings = GatewaySettings(database_url=stack.config.database_url, nats_url=stack.config.nats_url,
                               bus_prefix=stack.config.bus_prefix, download_slice_chars=7)
    with TestClient(create_app(settings)) as gateway:
        response = gateway.get(f"/v1/jobs/{job_id}/document", params={"format": "docx"},
                               headers={"Authorization": f"Bearer {api.token}"})
    assert response.status_code == 200, response.text
    assert docx_paragraphs(response.content)[1:] == paragraphs_of(text)


def test_txt_is_the_default_format(finished) -> None:
    api, job_id, text = finished
    response = api.http.get(f"/v1/jobs/{job_id}/document")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == text


def test_an_unknown_format_is_refused_with_422(finished) -> None:
    api, job_id, _ = finished
    response = api.http.get(f"/v1/jobs/{job_id}/document", params={"format": "pdf"})
    assert response.status_code == 422
    assert ["query", "format"] == response.json()["detail"][0]["loc"]


@pytest.mark.parametrize("format", ["txt", "md", "docx"])
def test_an_unfinished_job_has_no_document_yet(client, format) -> None:
    job_id = client.submit(5000)
    client.http.post(f"/v1/jobs/{job_id}/cancel")
    response = client.http.get(f"/v1/jobs/{job_id}/document", params={"format": format})
    assert response.status_code == 409
    assert "not ready" in response.json()["detail"]
