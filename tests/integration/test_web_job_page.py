"""One live page per job (issue 18), in a real browser: the page a submit leads to follows the job
by itself, survives a reload, and ends with what a finished job offers; a watched and reloaded
job's log still ends with `job.completed`, followed only by the records of carrying and storing it
(the page's reads are the account's, and no step of the job comes later); a cancelled job's
page reads what was written, marked partial, and resumes it."""

import json
import re
import secrets
from pathlib import Path

from playwright.sync_api import expect

from tests.integration.test_web import (ARTIFACTS, SLOW_WRITER, api_get, browser,  # noqa: F401
                                        cancel_unless_done, driver, on_a_phone, sign_up, started)


def test_a_running_jobs_page_survives_a_reload_and_its_log_ends_with_completed(browser) -> None:  # noqa: F811
    page = sign_up(browser())
    title = f"Lagoons {secrets.token_hex(3)}"
    # Slower than SLOW_WRITER: the page is reloaded and checked while the job still runs (a chunk
    # is one call now, and at 0.75 s a call the job could end during a reload on a loaded machine).
    started(page, title, 4_000, "fake/latency:seconds=2.5")
    address, job_id = page.url, page.url.rsplit("/", 1)[1]
    job = page.locator("#job")
    expect(job.locator(".words-text")).not_to_have_text(re.compile(r"^0 /"))
    assert api_get(page.context, f"/v1/jobs/{job_id}").json()["status"] != "completed"

    page.reload()
    assert page.url == address
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(job.get_by_role("button", name="Cancel")).to_be_visible()
    expect(page.locator("#audit-panel .log .line").first).to_have_text(re.compile(r"  #1 "))  # replayed from the start
    expect(job.locator(".outline-row").first).to_be_visible()
    expect(job.locator(".document p").first).to_be_attached()  # the document as it grows
    page.screenshot(path=str(ARTIFACTS / "job-page-running.png"))
    on_a_phone(page, "job-page-running-phone.png")

    expect(job.locator(".job-status")).to_have_text(re.compile(r"^Completed: "), timeout=180_000)
    for name in ("Read", "Download .txt", "Download .md", "Download .docx", "New job"):
        expect(job.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(job.get_by_role("button", name="Cancel")).to_be_hidden()
    expect(job.locator(".fact-left")).to_have_text("–")
    expect(job.locator(".document-status")).to_have_text("")  # the finished document, not a partial one
    page.screenshot(path=str(ARTIFACTS / "job-page-completed.png"), full_page=True)

    page.reload()
    expect(job.locator(".job-status")).to_have_text(re.compile(r"^Completed: "))
    expect(page.locator("#audit-panel .panel-status")).to_contain_text("Job completed")
    logged = [json.loads(line) for line in
              api_get(page.context, f"/v1/jobs/{job_id}/audit?format=ndjson").text().splitlines()]
    end = [i for i, e in enumerate(logged) if e["type"] == "job.completed"][-1]
    # After it, only the records of carrying and storing the log's last events (which come after
    # them by nature, and are logged like every statement): no step of the job, no reader's reads.
    after = [(e["type"], e["data"].get("context")) for e in logged[end + 1:]]
    assert set(after) <= {("db.query", "bookkeeping"), ("db.query", "outbox relay")}, after
    assert ("db.query", "bookkeeping") in after  # the audit service's own writes, marked
    job.get_by_role("link", name="New job", exact=True).click()
    expect(page.get_by_label("Title", exact=True)).to_have_value("")


def test_a_cancelled_jobs_page_reads_what_was_written_and_resumes_it(browser) -> None:  # noqa: F811
    page = sign_up(browser())
    started(page, f"Fjords {secrets.token_hex(3)}", 20_000, SLOW_WRITER)
    job = page.locator("#job")
    expect(job.locator(".chunks-text")).not_to_have_text(re.compile(r"^[01] /"))
    job.get_by_role("button", name="Cancel").click()
    expect(job.locator(".job-status")).to_have_text(re.compile(r"^Cancelled at [\d,]+ of 20,000 words\."))
    job_id = page.url.rsplit("/", 1)[1]
    words = api_get(page.context, f"/v1/jobs/{job_id}").json()["words"]
    note = job.locator(".document .partial-note")
    expect(note).to_have_text(f"Partial: {words:,} of 20,000 words written; the job was cancelled."
                              " Resume it to write the rest.")
    expect(job.locator(".document p").nth(1)).to_be_attached()
    link = job.get_by_role("link", name="Download .md (partial)")
    with page.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_text().startswith("# ")
    assert download.value.suggested_filename.endswith("partial.md")
    page.screenshot(path=str(ARTIFACTS / "job-page-cancelled.png"), full_page=True)

    job.get_by_role("button", name="Resume").click()
    expect(job.locator(".job-status")).not_to_have_text(re.compile(r"^Cancelled"))
    expect(job.get_by_role("button", name="Cancel")).to_be_visible()
    job.get_by_role("button", name="Cancel").click()  # leave nothing running for the next test
    expect(job.locator(".job-status")).to_have_text(re.compile(r"^Cancelled"))


def test_a_queued_jobs_page_shows_its_place_and_follows_it_when_it_starts(browser) -> None:  # noqa: F811
    """The suite's gateway runs 3 jobs of an account at once (the default): a 4th waits, first."""
    page = sign_up(browser())
    csrf = {"X-Longform-CSRF": "1"}
    busy = [page.context.request.post("/v1/jobs", headers=csrf, data={
        "mode": "generate", "title": f"Busy {n}", "instructions": "A field guide to imaginary rivers.",
        "target_words": 4_000, "model": SLOW_WRITER}) for n in range(3)]
    assert [answer.status for answer in busy] == [202, 202, 202]
    started(page, "Waiting its turn", 50)
    job = page.locator("#job")
    expect(job.locator(".job-status")).to_have_text(re.compile(r"^Queued: number 1 in your queue"))
    expect(job.locator(".fact-status")).to_have_text("queued: number 1 in your queue")
    expect(job.locator(".outline-summary")).to_have_text(re.compile(r"^The job waits in your queue"))
    page.screenshot(path=str(ARTIFACTS / "job-page-queued.png"))
    for answer in busy:
        cancel_unless_done(page.context, answer.json()["id"])
    expect(job.locator(".job-status")).to_have_text(re.compile(r"^Completed: "))
