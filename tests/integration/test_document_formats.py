"""A completed job's document downloads as txt, md and docx with the plan's headings (SPEC D1):
the same headings and body words in each, named by the title; what is written so far can be read
before the end (D2)."""

import functools
import io

import docx
import pytest
from fastapi.testclient import TestClient

from contracts.wordcount import count_words
from services.gateway.config import GatewaySettings
from services.gateway.main import create_app
from services.gateway.sources import DOCX
from tests.integration.dbread import fetch
from tests.reader import check_document, read_docx, read_markdown

TITLE = "Rivers <of> \"Europe\" & 'Asia'"


@pytest.fixture(scope="module")
def finished(stack, database_url):
    """One completed job of two levels (chapters > sections), shared by the tests here: (client,
    job id, its documents as read)."""
    api = stack.client()
    job_id = api.submit(12_000, title=TITLE)
    assert api.wait(job_id, timeout=300)["status"] == "completed"
    yield api, job_id, check_document(api, functools.partial(fetch, database_url), job_id)
    api.close()


def test_every_format_has_the_plans_headings_at_their_levels(finished, query) -> None:
    api, job_id, reads = finished
    levels = [level for level, _ in reads["md"].headings]
    assert set(levels) == {1, 2} and levels[0] == 1  # chapters, and sections under them
    titles = [t for r in query("SELECT titles FROM planner.sections WHERE job_id = $1 ORDER BY section_index", job_id)
              for t in r["titles"]]
    assert [title for _, title in reads["md"].headings] == list(dict.fromkeys(titles))


def test_markdown_has_the_title_then_hashes_by_level(finished) -> None:
    api, job_id, reads = finished
    response = api.http.get(f"/v1/jobs/{job_id}/document", params={"format": "md"})
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.text.startswith(f"# {TITLE}\n\n## {reads['md'].headings[0][1]}\n\n### ")


def test_txt_numbers_its_headings_with_a_blank_line_around_each(finished) -> None:
    api, job_id, reads = finished
    text = api.http.get(f"/v1/jobs/{job_id}/document").text  # txt is the default
    first, second = (title for _, title in reads["md"].headings[:2])
    assert text.startswith(f"{TITLE}\n\n1 {first}\n\n1.1 {second}\n\n")


def test_docx_has_the_title_heading_styles_and_a_table_of_contents(finished) -> None:
    api, job_id, reads = finished
    response = api.http.get(f"/v1/jobs/{job_id}/document", params={"format": "docx"})
    assert response.headers["content-type"] == DOCX
    document = docx.Document(io.BytesIO(response.content))
    assert document.paragraphs[0].text == TITLE and document.paragraphs[0].style.name == "Title"
    assert {p.style.name for p in document.paragraphs if p.style.name.startswith("Heading")} == {"Heading 1",
                                                                                                 "Heading 2"}
    xml = document.element.xml
    assert 'TOC \\o "1-3"' in xml and "w:fldChar" in xml
    assert document.settings.element.xml.count("updateFields") == 1


def test_downloads_are_named_from_the_title(finished, client) -> None:
    api, job_id, _ = finished
    response = api.http.get(f"/v1/jobs/{job_id}/document", params={"format": "md"})
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"rivers-of-europe-asia.md\"; filename*=UTF-8''rivers-of-europe-asia.md")
    foreign = client.submit(20, title="Über die Flüsse: ein Bericht")
    assert client.wait(foreign)["status"] == "completed"
    named = client.http.get(f"/v1/jobs/{foreign}/document", params={"format": "docx"}).headers["content-disposition"]
    assert named == ("attachment; filename=\"uber-die-flusse-ein-bericht.docx\";"
                     " filename*=UTF-8''%C3%BCber-die-fl%C3%BCsse-ein-bericht.docx")


def test_the_job_counts_body_words_and_heading_words_apart(finished) -> None:
    api, job_id, reads = finished
    job = api.job(job_id)
    assert job["words"] == reads["md"].body_words >= 12_000
    assert job["heading_words"] == sum(count_words(title) for _, title in reads["md"].headings) > 0
    txt = api.http.get(f"/v1/jobs/{job_id}/document").text
    assert count_words(txt) == count_words(TITLE) + job["words"] + job["heading_words"] + len(reads["md"].headings)


def test_docx_paragraphs_survive_any_slice_size(stack, finished) -> None:
    """The body is read in slices that cut paragraphs and headings' places anywhere; the .docx
    still has them whole, in order."""
    api, job_id, reads = finished
    settings = GatewaySettings(database_url=stack.config.database_url, nats_url=stack.config.nats_url,
                               bus_prefix=stack.config.bus_prefix, download_slice_chars=7)
    with TestClient(create_app(settings)) as gateway:
        response = gateway.get(f"/v1/jobs/{job_id}/document", params={"format": "docx"},
                               headers={"Authorization": f"Bearer {api.token}"})
    assert response.status_code == 200, response.text
    assert read_docx(response.content) == reads["docx"]


def test_a_job_without_headings_is_flat_prose_in_every_format(client, query) -> None:
    job_id = client.submit(3000, title="A Letter", headings=False)
    assert client.wait(job_id)["status"] == "completed"
    reads = check_document(client, query, job_id)
    assert all(read.headings == [] for read in reads.values())
    assert client.job(job_id)["heading_words"] == 0


def test_an_outline_made_in_code_is_titled_by_each_sections_first_sentence(client, query) -> None:
    job_id = client.submit(6000, model="fake/ignore_formats")
    assert client.wait(job_id, timeout=300)["status"] == "completed"
    assert query("SELECT outline_source FROM planner.plans WHERE job_id = $1", job_id)[0]["outline_source"] == "code"
    headings = check_document(client, query, job_id)["md"].headings
    assert len(headings) >= 2 and not any("part" in title.lower().split()[:1] for _, title in headings)
    firsts = [r["text"] for r in query(
        "SELECT g.text FROM planner.sections_v1 s JOIN generator.chunks g ON g.job_id = s.job_id"
        " AND g.chunk_index = s.first_chunk WHERE s.job_id = $1 ORDER BY s.section_index", job_id)]
    assert all(text.startswith(title.rstrip("…")) for (_, title), text in zip(headings, firsts))


def test_an_unknown_format_is_refused_with_422(finished) -> None:
    api, job_id, _ = finished
    response = api.http.get(f"/v1/jobs/{job_id}/document", params={"format": "pdf"})
    assert response.status_code == 422
    assert ["query", "format"] == response.json()["detail"][0]["loc"]


@pytest.mark.parametrize("format", ["txt", "md", "docx"])
def test_a_running_job_has_no_document_yet_but_points_to_what_is_written(client, format) -> None:
    job_id = client.submit(5000, model="fake/slow:delay=1")
    response = client.http.get(f"/v1/jobs/{job_id}/document", params={"format": format})
    client.http.post(f"/v1/jobs/{job_id}/cancel")
    assert response.status_code == 409
    assert "not ready" in response.json()["detail"] and "partial=true" in response.json()["detail"]


@pytest.mark.parametrize("format", ["txt", "md", "docx"])
def test_a_cancelled_jobs_document_is_what_it_wrote_marked_partial(client, format) -> None:
    job_id = client.submit(5000, model="fake/slow:delay=1")
    client.http.post(f"/v1/jobs/{job_id}/cancel")
    job = client.wait(job_id, timeout=300)
    assert job["status"] == "cancelled", job
    response = client.http.get(f"/v1/jobs/{job_id}/document", params={"format": format})
    assert response.status_code == 200 and response.headers["x-longform-partial"] == "true"
    assert f'partial.{format}"' in response.headers["content-disposition"]
    if format != "docx":
        assert (f"Partial: {job['words']:,} of 5,000 words written; the job was cancelled."
                " Resume it to write the rest.") in response.text


def test_what_is_written_so_far_reads_in_plan_order_marked_partial(client, query) -> None:
    job_id = client.submit(12_000, model="fake/slow:delay=1")
    client.wait_for(job_id, lambda job: job["chunks_done"] >= 3, timeout=300)
    client.http.post(f"/v1/jobs/{job_id}/cancel")
    job = client.wait(job_id, timeout=300)
    assert job["status"] == "cancelled", job
    response = client.http.get(f"/v1/jobs/{job_id}/document", params={"format": "md", "partial": "true"})
    assert response.status_code == 200 and response.headers["x-longform-partial"] == "true"
    assert 'partial.md"' in response.headers["content-disposition"]
    read = read_markdown(response.text)
    note, _, body = read.body.strip().partition("\n\n")
    assert note == f"> Partial: {job['words']:,} of 12,000 words written; the job was cancelled. Resume it to write the rest."
    written = query("SELECT text FROM generator.chunks WHERE job_id = $1 ORDER BY chunk_index", job_id)
    assert count_words(body) == sum(count_words(r["text"]) for r in written) == job["words"]
    assert body.split() == " ".join(r["text"] for r in written).split()
    begun = query("SELECT titles FROM planner.sections_v1 WHERE job_id = $1 AND chunks_done > 0"
                  " ORDER BY section_index", job_id)
    assert [t for _, t in read.headings][-1] == begun[-1]["titles"][-1]
