"""The outline pane on the job view, in a real browser (issue 17): it fills in from the plan while
a 20,000-word job runs against the fake LLM, follows it live without a reload, and a section
chosen by keyboard shows what it has so far."""

import json
import secrets

from playwright.sync_api import Page, expect

from contracts.wordcount import count_words
from tests.integration.test_web import (ARTIFACTS, SLOW_WRITER, TARGET, api_get, browser,  # noqa: F401
                                        cancel_unless_done, driver, sign_up, started)


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
    cancel_unless_done(page.context, job_id)


def _tree(nodes) -> list[dict]:
    """The plan's sections as PUT takes them (what the page's editor sends)."""
    return [{"title": n["title"], "sections": _tree(n["sections"])} if "sections" in n else
            {"title": n["title"], "brief": n.get("brief") or "", "budget_words": n["budget_words"], "index": n["index"]}
            for n in nodes]


def _leaves(nodes):
    for node in nodes:
        if "index" in node:
            yield node
        yield from _leaves(node.get("sections", []))


def test_a_plan_in_review_is_edited_and_approved_in_the_page(browser) -> None:  # noqa: F811
    page = sign_up(browser())
    page.get_by_label("Review the outline before writing").check()
    started(page, f"Estuaries {secrets.token_hex(3)}", 3_000)
    job_id = api_get(page.context, "/v1/jobs?limit=1").json()["jobs"][0]["id"]
    page.goto(f"/jobs/{job_id}")
    editor = page.locator("#outline .outline-editor")
    expect(editor).to_be_visible()
    before = api_get(page.context, f"/v1/jobs/{job_id}/plan").json()
    assert before["state"] == "awaiting_review"

    first = editor.locator(".editor-node").first
    first.get_by_label("Section title").fill("The Salt Marsh")
    first.locator(".edit-budget").fill("0")
    editor.get_by_role("button", name="Save the outline").click()
    expect(editor.locator(".editor-status")).to_contain_text(
        "section 1 “The Salt Marsh”: its budget must be at least 1 word")
    first.locator(".edit-budget").fill(str(before["target_words"]))  # the first alone now covers the target

    # Another tab saves a plan meanwhile: the page reads the plan again, and keeps what was typed here.
    elsewhere = _tree(before["sections"])
    next(_leaves(elsewhere))["brief"] = "Saved from another tab."
    assert page.context.request.put(f"/v1/jobs/{job_id}/plan", data=json.dumps({"sections": elsewhere}), headers={
        "X-Longform-CSRF": "1", "Content-Type": "application/json"}).ok
    expect(editor.locator(".editor-status")).to_contain_text("The plan was changed elsewhere meanwhile")
    assert first.get_by_label("Section title").input_value() == "The Salt Marsh"

    editor.get_by_role("button", name="Add a section").click()
    added = editor.locator(".editor-node").last
    added.get_by_label("Section title").fill("Tides")
    added.locator(".edit-brief").fill("How the tide comes up the river.")
    added.locator(".edit-budget").fill("300")
    added.get_by_role("button", name="Up: “New section”").click()  # now second to last
    sections = editor.locator(".editor-node").count()
    editor.get_by_role("button", name="Save the outline").press("Enter")
    expect(editor.locator(".editor-status")).to_contain_text("Saved")

    # The pane shows the plan the planner rechunked (read again on its job.plan_edited).
    # The section added has no index until then; read back, it has its place in the plan.
    expect(editor.locator(".editor-node").nth(-2)).to_have_attribute("data-index", str(sections - 2))
    titles = [leaf["title"] for leaf in _leaves(api_get(page.context, f"/v1/jobs/{job_id}/plan").json()["sections"])]
    assert titles.index("Tides") == len(titles) - 2 and titles.count("The Salt Marsh") == 1
    shown = editor.locator(".editor-node > .edit-title").evaluate_all("inputs => inputs.map(i => i.value)")
    assert shown == titles
    page.screenshot(path=ARTIFACTS / "outline-review.png", full_page=True)
    log = [json.loads(line) for line in api_get(page.context, f"/v1/jobs/{job_id}/audit?format=ndjson").text().splitlines()]
    edits = [line for e in log if e["type"] == "job.plan_edited" for line in e["data"]["edits"]]
    assert any(line.startswith("added “Tides”") for line in edits) and any("renamed" in line for line in edits)

    editor.get_by_role("button", name="Approve and write").click()
    expect(editor).to_be_hidden()
    expect(page.locator("#outline .outline-summary")).to_contain_text("completed", timeout=120_000)
    expect(page.locator("#outline button.outline-row").first).to_contain_text("The Salt Marsh")
    page.screenshot(path=ARTIFACTS / "outline-approved.png", full_page=True)
    job = api_get(page.context, f"/v1/jobs/{job_id}").json()
    assert job["status"] == "completed" and job["words"] >= 3_000
