"""The panel tells the story (issue 18): it opens on the job's steps, the plan's sections with their
chunks as GET /v1/jobs/{id}/plan has them, each chunk with its words against budget and its
checks, opening to its LLM calls and then to its statements; the flat log is a toggle away."""

import json
import re
import secrets

from playwright.sync_api import Page, expect

from tests.integration.test_web import (  # noqa: F401 (fixtures)
    ARTIFACTS, TARGET, api_get, browser, driver, member, on_a_phone, sign_up, started)

CHUNK_DONE = re.compile(r"^Chunk \d+ · [\d,]+ / [\d,]+ words, (pass|fail)")


def leaves(nodes: list[dict]) -> list[dict]:
    """The plan's sections that hold chunks (the tree's leaves), in plan order."""
    return [leaf for node in nodes for leaf in (leaves(node["sections"]) if "sections" in node else [node])]


def job_of(page: Page) -> str:
    href = page.locator("#audit-panel .download-json").get_attribute("href")
    return href.split("/")[3]


def test_the_story_view_of_a_20000_word_job_shows_every_section_and_chunk(browser) -> None:  # noqa: F811
    page = sign_up(browser())
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    started(page, f"Deltas {secrets.token_hex(3)}", TARGET)
    panel = page.locator("#audit-panel")
    expect(panel.locator(".panel-status")).to_contain_text("Job completed", timeout=120_000)
    job_id = job_of(page)
    expect(panel.locator(".story")).to_be_visible()  # the panel opens on the story
    expect(panel.locator(".log")).to_be_hidden()
    assert errors == []

    plan = leaves(api_get(page.context, f"/v1/jobs/{job_id}/plan").json()["sections"])
    job = api_get(page.context, f"/v1/jobs/{job_id}").json()
    sections = panel.locator(".story .k-section")
    expect(sections).to_have_count(len(plan))
    for leaf in plan:
        section = panel.locator(f'.story [data-key="section:{leaf["index"]}"]')
        expect(section.locator("> summary")).to_contain_text(f"Section {leaf['index'] + 1}: ")
        expect(section.locator("> summary")).to_contain_text(leaf["title"])
        expect(section.locator(".k-chunk")).to_have_count(leaf["chunks"])
    chunks = panel.locator(".story .k-section .k-chunk > summary")
    expect(chunks).to_have_count(job["chunks_total"])
    assert all(CHUNK_DONE.match(text) for text in chunks.all_text_contents()), chunks.all_text_contents()
    expect(panel.locator('.story [data-key="plan"] > summary')).to_contain_text(
        f"Planned: {len(plan)} sections, {job['chunks_total']} chunks")
    page.screenshot(path=str(ARTIFACTS / "story-view.png"))
    on_a_phone(page, "story-view-phone.png")

    a_finished_job_replays_the_same_story(page, job_id, chunks.all_text_contents())
    a_chunk_opens_to_its_calls_then_its_statements(page, job_id)
    the_flat_log_is_a_keyboard_toggle_away(page)
    assert errors == []


def a_finished_job_replays_the_same_story(page: Page, job_id: str, chunks: list[str]) -> None:
    """The story comes from the log alone: opened again on the finished job, it is the same."""
    page.goto(f"/jobs/{job_id}?audit")
    panel = page.locator("#audit-panel")
    replayed = panel.locator(".story .k-section .k-chunk > summary")
    expect(replayed).to_have_count(len(chunks))
    expect(replayed).to_have_text(chunks)


def a_chunk_opens_to_its_calls_then_its_statements(page: Page, job_id: str) -> None:
    log = [json.loads(line) for line in
           api_get(page.context, f"/v1/jobs/{job_id}/audit?format=ndjson").text().splitlines()]
    of_chunk = [e for e in log if e.get("step") in ("chunk:0", "summary:0")]
    records = [e["seq"] for e in of_chunk if e["type"] in ("db.query", "db.row_inserted", "db.row_updated")]
    chunk = page.locator('#audit-panel .story [data-key="chunk:0"]')
    chunk.locator("> summary").click()
    lines = chunk.locator("> .story-body > .story-lines > .line")
    expect(lines.filter(has_text=re.compile(r"Write call, attempt 1: [\d,]+ words")).first).to_be_visible()
    expect(lines.filter(has_text=re.compile(r"Check: [\d,]+ / [\d,]+ words, (pass|fail)"))).to_have_count(1)
    expect(lines.filter(has_text="Summary by")).to_have_count(1)
    statements = chunk.locator(".story-records")
    expect(statements.locator("> summary")).to_have_text(f"Statements and row events ({len(records)})")
    statements.locator("> summary").click()
    shown = statements.locator(".line")
    expect(shown).to_have_count(len(records))
    assert [int(re.search(r"#(\d+)", t).group(1)) for t in shown.all_text_contents()] == records
    expect(shown.filter(has_text="db.query").first).to_be_visible()
    shown.first.click()  # a statement opens to its whole event
    assert json.loads(statements.locator(".detail pre").text_content())["seq"] == records[0]
    page.screenshot(path=str(ARTIFACTS / "story-chunk-open.png"))


def the_flat_log_is_a_keyboard_toggle_away(page: Page) -> None:
    panel = page.locator("#audit-panel")
    story = panel.get_by_role("radio", name="Story")
    story.focus()
    page.keyboard.press("ArrowRight")  # a radio group: the arrow moves to the flat log and selects it
    expect(panel.get_by_role("radio", name="Flat log")).to_be_checked()
    expect(panel.locator(".log")).to_be_visible()
    expect(panel.locator(".story")).to_be_hidden()
    expect(panel.get_by_role("radio", name="SQL")).to_be_visible()  # the filters come with it
    page.keyboard.press("ArrowLeft")
    expect(panel.locator(".story")).to_be_visible()


def test_the_story_keeps_up_with_a_long_jobs_tens_of_thousands_of_lines(member) -> None:  # noqa: F811
    """A stand-in socket delivers a 400-chunk job's log at once (48 lines a chunk, 19,200 in all,
    the last section's chunks first): the story shows every section, in the plan's order, and chunk, and makes no line of any step until it is opened."""
    chunks, per_section = 400, 3
    job_id = member.context.request.post("/v1/jobs", headers={"X-Longform-CSRF": "1"}, multipart={
        "mode": "generate", "title": "Long", "instructions": "Rivers.", "target_words": "1"}).json()["id"]
    page = member.context.new_page()
    page.add_init_script(A_LONG_JOBS_SOCKET.replace("CHUNKS", str(chunks)).replace("PER_SECTION", str(per_section)))
    page.goto(f"/jobs/{job_id}?audit")
    panel = page.locator("#audit-panel")
    expect(panel.locator(".line-count")).to_have_text(f"{chunks * 48:,} lines")
    expect(panel.locator(".story .k-chunk")).to_have_count(chunks)
    expect(panel.locator(".story .k-section")).to_have_count(-(-chunks // per_section))
    keys = panel.locator(".story .k-section").evaluate_all("sections => sections.map(s => s.dataset.key)")
    assert keys == [f"section:{i}" for i in range(-(-chunks // per_section))]  # sent last first, shown in plan order
    expect(panel.locator(".story .k-chunk > summary").last).to_have_text(
        f"Chunk {chunks} · 500 / 500 words, pass · 2 write calls (1 retry) · 1 reply discarded")
    assert panel.locator(".story .line").count() == 0  # nothing made until opened
    last = panel.locator(f'.story [data-key="chunk:{chunks - 1}"]')
    last.locator("> summary").click()
    last.locator(".story-records > summary").click()
    expect(last.locator(".story-records .line")).to_have_count(44)
    page.close()


# Per chunk: its dispatch, a discarded and a kept write call, its check, 44 statements.
A_LONG_JOBS_SOCKET = """
window.WebSocket = class {
  constructor(url) {
    setTimeout(() => {
      this.onopen?.();
      let seq = 0;
      const send = (type, step, data) => this.onmessage?.({ data: JSON.stringify({ seq: ++seq, type, step, data,
        event_id: String(seq), service: "generator", job_id: null, user_id: null, ts: "2026-01-01T00:00:00.000000+00:00" }) });
      const order = [...Array(CHUNKS).keys()].sort((a, b) =>  // the last section sent first
        Math.floor(b / PER_SECTION) - Math.floor(a / PER_SECTION) || a - b);
      for (const i of order) {
        const section = Math.floor(i / PER_SECTION), step = `chunk:${i}`;
        send("chunk.write", "plan", { chunk_index: i, section_index: section, section_title: `Part ${section}`,
          budget_words: 500 });
        for (const kept of [false, true]) {
          send("llm.call", step, { attributes: { "longform.purpose": "write", "longform.kept": kept, "longform.attempt": 1 } });
        }
        send("chunk.processed", step, { chunk_index: i, output_words: 500, budget_words: 500, passed: true, attempts: 2 });
        for (let s = 0; s < 44; s++) send("db.query", step, { statements: [{ sql: "SELECT 1" }] });
      }
    }, 0);
  }
  close() {}
};
"""
