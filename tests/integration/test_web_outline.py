"""The outline pane on the job view, in a real browser (issue 17): it fills in from the plan while
a 20,000-word job runs against the fake LLM, follows it live without a reload, and a section
chosen by keyboard shows what it has so far."""

import secrets

from playwright.sync_api import Page, expect

from contracts.wordcount import count_words
from tests.integration.test_web import (ARTIFACTS, SLOW_WRITER, TARGET, api_get, browser, driver,  # noqa: F401
                                        sign_up, started)


def _counts(page: Page) -> dict:
    return page.locator("#outline").evaluate(
        "el => ({done: el.querySelectorAll('button.outline-row').length &&"
        " el.querySelectorAll('li.status-done > button.outline-row').length,"
        " pending: el.querySelectorAll('li.status-pending > button.outline-row').length,"
        " leaves: el.querySelectorAll('button.outline-row').length})")


def test_the_outline_fills_in_while_a_long_job_runs(browser) -> None:  # noqa: F811
    page = sign_up(browser())
    started(page, f"Deltas {secrets.token_hex(3)}", TARGET, SLOW_WRITER)
    job_id = api_get(page.context, "/v1/jobs?limit=1").json()["jobs"][0]["id"]
    page.goto(f"/jobs/{job_id}")
    outline = page.locator("#outline")
    expect(outline.locator("button.outline-row").first).to_be_visible()
    expect(outline.locator("li.status-done > button.outline-row").first).to_be_visible()
    first = _counts(page)
    assert first["pending"] >= 1, first  # written and waiting sections side by side
    page.screenshot(path=ARTIFACTS / "outline-mid-job.png", full_page=True)
    # No reload: the pane follows the job's events.
    expect(outline.locator("li.status-done > button.outline-row")).not_to_have_count(first["done"])

    plan = api_get(page.context, f"/v1/jobs/{job_id}/plan").json()
    assert _counts(page)["leaves"] == sum(1 for _ in _leaves(plan["sections"]))
    done = outline.locator("li.status-done > button.outline-row").first
    index = int(done.get_attribute("data-index"))
    done.focus()
    page.keyboard.press("Enter")
    reader = page.locator("#section-reader")
    expect(reader.locator(".section-text p").first).to_be_visible()
    section = api_get(page.context, f"/v1/jobs/{job_id}/sections/{index}").json()
    shown = reader.locator(".section-text").inner_text()
    assert count_words(shown) == section["words"] > 0
    expect(reader.locator(".section-text")).to_be_focused()
    page.screenshot(path=ARTIFACTS / "outline-section-read.png", full_page=True)
    assert page.context.request.post(f"/v1/jobs/{job_id}/cancel", headers={"X-Longform-CSRF": "1"}).ok


def _leaves(nodes):
    for node in nodes:
        if "index" in node:
            yield node
        yield from _leaves(node.get("sections", []))
