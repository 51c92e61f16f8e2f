"""Every prompt one click away, in the page (issue 18): an LLM line of the panel opens the call
whole; the call's page shows its prompt, reply and decision; another user finds nothing there."""

import re

from playwright.sync_api import expect

from tests.integration.test_web import ARTIFACTS, browser, driver, flat_log, sign_up, started  # noqa: F401 (fixtures)

LLM_LINE = re.compile(r"llm\.call")


def test_an_llm_line_opens_its_full_prompt_and_reply(browser) -> None:  # noqa: F811
    page = sign_up(browser())
    started(page, "Tides", 300)
    flat_log(page)
    panel = page.locator("#audit-panel")
    expect(panel.get_by_text("job.completed")).to_be_visible()
    line = panel.locator(".log .line", has_text=LLM_LINE).first
    line.click()
    link = panel.get_by_role("link", name="Open the full prompt and reply")
    expect(link).to_be_visible()
    seq = int(link.get_attribute("href").rsplit("/", 1)[1])
    job_id = link.get_attribute("href").split("/")[2]
    link.click()
    expect(page).to_have_url(re.compile(rf"/jobs/{job_id}/llm-calls/{seq}$"))
    call = page.context.request.get(f"/v1/jobs/{job_id}/llm-calls/{seq}").json()
    expect(page.locator(".call-prompt")).to_have_text(call["prompt"])
    expect(page.locator(".call-reply")).to_have_text(call["reply"])
    expect(page.locator(".call-decision")).to_have_text(call["decision"])
    page.screenshot(path=str(ARTIFACTS / "llm-call.png"), full_page=True)

    stranger = sign_up(browser())
    answer = stranger.goto(f"/jobs/{job_id}/llm-calls/{seq}")
    assert answer.status == 404
