"""The web page in a real browser (Debian's Chromium driven by Playwright): sign up, submit a job,
watch its audit log arrive in the panel, and find everything again in Job History; another user
sees none of it. Screenshots go to test-artifacts/."""

import json
import re
import secrets
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from contracts.wordcount import count_words

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery"
SLOW_WRITER = "fake/latency:seconds=0.75"  # each chunk takes a while, so the job is watched while it runs
TARGET = 20_000  # the size the issue names: a new user watches it write itself
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def driver():
    if not CHROMIUM.exists():
        pytest.skip("install Debian's chromium: apt-get install chromium")
    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(driver, stack, tmp_path_factory):
    """Opens fresh browser profiles (one per user) on the stack's gateway."""
    contexts = []

    def open_profile() -> BrowserContext:
        context = driver.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=ARGS, accept_downloads=True, base_url=stack.config.gateway_url,
            viewport={"width": 1400, "height": 900})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.config.gateway_url)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return context

    yield open_profile
    for context in contexts:
        context.close()


def sign_up(context: BrowserContext) -> Page:
    page = context.pages[0] if context.pages else context.new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))  # no session yet: the page asks to sign in
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email", exact=True).fill(f"writer-{secrets.token_hex(4)}@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_role("heading", name="New job")).to_be_visible()
    return page


def submit(page: Page, title: str, target: int, model: str = "") -> None:
    if page.locator("#new-job").count() == 0:  # a job's page: the form is one link away
        page.get_by_role("link", name="New job", exact=True).first.click()
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Instructions", exact=True).fill("A field guide to imaginary rivers, one river per section.")
    page.get_by_label("Target words", exact=True).fill(str(target))
    page.get_by_label("Model", exact=True).fill(model)
    page.get_by_role("button", name="Start the job").click()


def started(page: Page, title: str, target: int, model: str = "") -> None:
    """Submits a job the gateway accepts, and returns once the browser is on the job's own page
    and its panel shows that job (a page left at once would abort the submit in flight)."""
    submit(page, title, target, model)
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    expect(page.locator("#audit-panel .panel-job")).to_have_text(f"· {title}")


def flat_log(page: Page) -> None:
    """The panel opens on the job's story (test_web_story.py); these tests read its flat log."""
    page.locator("#audit-panel").get_by_role("radio", name="Flat log").check()


def panel_lines(page: Page) -> list[tuple[int, str]]:
    """(seq, type) of each line the panel holds, read at one moment (lines keep arriving)."""
    texts = page.locator("#audit-panel .log .line").evaluate_all("lines => lines.map(l => l.textContent)")
    return [(int(re.search(r"#(\d+)", text).group(1)), text.split()[3]) for text in texts]


def panel_seqs(page: Page) -> list[int]:
    return [seq for seq, _ in panel_lines(page)]


def panel_types(page: Page) -> list[str]:
    return [type for _, type in panel_lines(page)]


def log_position(page: Page) -> dict:
    return page.locator("#audit-panel .log").evaluate(
        "el => ({top: el.scrollTop, gap: el.scrollHeight - el.scrollTop - el.clientHeight})")


def api_get(context: BrowserContext, path: str):
    response = context.request.get(path)
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response


def cancel_unless_done(context: BrowserContext, job_id: str) -> None:
    """Stops a job the test started, unless it completed first (a fast machine writes a slow
    writer's job before the test gets here): then there is nothing to stop."""
    cancelled = context.request.post(f"/v1/jobs/{job_id}/cancel", headers={"X-Longform-CSRF": "1"})
    if cancelled.status != 202:
        status = api_get(context, f"/v1/jobs/{job_id}").json()["status"]
        assert cancelled.status == 409 and status == "completed", f"{cancelled.status} {cancelled.text()} ({status})"


def download(page: Page, link: str) -> str:
    with page.expect_download() as started:
        page.locator(f"#audit-panel {link}").click()
    return Path(started.value.path()).read_text()


def test_a_user_watches_a_job_live_then_finds_it_in_job_history(browser) -> None:
    page = sign_up(browser())
    sockets = panel_sockets(page)
    title = f"Rivers {secrets.token_hex(3)}"
    started(page, title, TARGET, SLOW_WRITER)
    flat_log(page)
    job_id = lines_arrive_while_the_job_runs(page, sockets)
    scrolling_back_stops_following(page)
    seqs = a_dropped_socket_loses_and_repeats_nothing(page, sockets, job_id)
    the_progress_ends_on_the_apis_numbers(page, job_id)
    downloads_and_copies_are_the_apis_log(page, job_id, seqs)
    a_line_opens_by_keyboard_or_click_and_the_filter_narrows(page, job_id)
    the_panel_stays_until_dismissed(page)
    job_history_opens_the_document_and_replays_the_log(page, title, job_id, seqs)
    another_user_sees_none_of_it(browser(), job_id)
    job = api_get(page.context, f"/v1/jobs/{job_id}").json()  # what the user watched was the whole job
    assert (job["status"], job["target_words"]) == ("completed", TARGET) and job["words"] >= TARGET
    assert len(seqs) > job["chunks_total"]  # the panel held more than one line per chunk


def panel_sockets(page: Page) -> list:
    """Every panel socket passes through the test (to the real server), so it can drop one."""
    sockets = []

    def through(ws) -> None:
        sockets.append(ws)
        ws.connect_to_server()

    page.route_web_socket(re.compile(r"/audit/live"), through)
    return sockets


def lines_arrive_while_the_job_runs(page: Page, sockets: list) -> str:
    panel = page.locator("#audit-panel")
    expect(panel).to_be_visible()  # at once, on submit
    lines = panel.locator(".log .line")
    expect(lines.nth(4)).to_be_attached()
    job_id = urlsplit(sockets[0].url).path.split("/")[3]
    seen = len(panel_seqs(page))
    assert "job.completed" not in panel_types(page)
    assert api_get(page.context, f"/v1/jobs/{job_id}").json()["status"] not in ("completed", "failed", "cancelled")
    expect(lines.nth(seen)).to_be_attached()
    expect(page.locator("#job .words-bar")).to_have_attribute("max", str(TARGET))
    return job_id


def scrolling_back_stops_following(page: Page) -> None:
    panel = page.locator("#audit-panel")
    lines, jump = panel.locator(".log .line"), panel.get_by_role("button", name="Jump to live")
    panel.locator(".log").hover()
    page.mouse.wheel(0, -100_000)
    expect(jump).to_be_visible()
    held = log_position(page)["top"]
    expect(lines.nth(lines.count())).to_be_attached()  # a new line arrives...
    assert log_position(page)["top"] == held  # ...and the view stays where the reader is
    jump.click()
    expect(jump).to_be_hidden()
    assert log_position(page)["gap"] <= 24
    progress = page.locator("#job .progress")
    expect(progress.locator(".chunks-text")).not_to_have_text(re.compile(r"^0 /"))  # progress moves with the job
    elapsed = progress.locator(".fact-elapsed")
    expect(elapsed).not_to_have_text(elapsed.text_content())  # the clock ticks while the job runs
    for fact in (".fact-section", ".fact-tokens", ".fact-left"):
        expect(progress.locator(fact)).not_to_have_text("–")
    expect(progress.locator(".fact-left")).to_have_text(re.compile(r"^about \d"))  # from the rate so far
    expect(progress.locator(".fact-cost")).to_have_text("unknown")  # no price table configured
    page.screenshot(path=ARTIFACTS / "audit-panel-mid-job.png")


def a_dropped_socket_loses_and_repeats_nothing(page: Page, sockets: list, job_id: str) -> list[int]:
    panel = page.locator("#audit-panel")
    before_drop = panel_seqs(page)[-1]
    sockets[0].close(code=4000, reason="dropped by the test")
    expect(panel.locator(".panel-status")).to_contain_text("Job completed", timeout=90_000)
    assert len(sockets) >= 2
    assert int(parse_qs(urlsplit(sockets[1].url).query)["after_seq"][0]) >= before_drop
    seqs, types = map(list, zip(*panel_lines(page)))
    assert seqs == list(range(1, len(seqs) + 1))
    logged = api_get(page.context, f"/v1/jobs/{job_id}/audit?format=ndjson").text().splitlines()
    assert [json.loads(line)["type"] for line in logged[: len(seqs)]] == types
    return seqs


def the_progress_ends_on_the_apis_numbers(page: Page, job_id: str) -> None:
    """Tokens and section as GET /v1/jobs/{id} gives them; the clock stopped at the job's end. (The
    last chunk's summary may still be under way: the tokens agree once the panel has seen its call.)"""
    facts = page.locator("#job .progress .facts")
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        job = api_get(page.context, f"/v1/jobs/{job_id}").json()
        tokens_in, tokens_out = job["tokens_in"], job["tokens_out"]
        wanted = [job["section"], shown_elapsed(job["created_at"], job["ended_at"]),
                  f"{tokens_in + tokens_out:,} (in {tokens_in:,}, out {tokens_out:,})"]
        shown = [facts.locator(f".fact-{name}").text_content() for name in ("section", "elapsed", "tokens")]
        if shown == wanted or time.monotonic() > deadline:
            break
        page.wait_for_timeout(300)
    assert tokens_in > 0 and job["section"] and job["ended_at"]
    assert shown == wanted


def shown_elapsed(start: str, end: str) -> str:
    """As the page writes it: from times in whole milliseconds (as JavaScript parses them), rounded."""
    def ms(iso: str) -> int:
        moment = datetime.fromisoformat(iso)
        return int(moment.timestamp()) * 1000 + moment.microsecond // 1000

    s = (ms(end) - ms(start) + 500) // 1000
    h, m = s // 3600, s % 3600 // 60
    return (f"{h} h " if h else "") + (f"{m} min " if h or m else "") + f"{s % 60} s"


def downloads_and_copies_are_the_apis_log(page: Page, job_id: str, seqs: list[int]) -> None:
    """The downloads are the API's own log, which grows by the reads of each download, at its end."""
    panel = page.locator("#audit-panel")
    as_json = json.loads(download(page, ".download-json"))
    assert len(as_json) >= len(seqs)
    assert as_json == json.loads(api_get(page.context, f"/v1/jobs/{job_id}/audit?format=json").text())[: len(as_json)]
    as_txt = download(page, ".download-txt").splitlines()
    assert as_txt == api_get(page.context, f"/v1/jobs/{job_id}/audit?format=txt").text().splitlines()[: len(as_txt)]

    panel.get_by_role("button", name="Copy all").click()
    expect(panel.locator(".panel-status")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()").splitlines()[: len(as_txt)] == as_txt
    panel.locator(".log .line").nth(1).evaluate(SELECT_THIS_AND_THE_NEXT_TWO_LINES)
    panel.get_by_role("button", name="Copy selection").click()
    expect(panel.locator(".panel-status")).to_have_text("Copied the selection.")
    selected = page.evaluate("navigator.clipboard.readText()").splitlines()
    assert [int(re.search(r"#(\d+)", line).group(1)) for line in selected] == [2, 3, 4]


SELECT_THIS_AND_THE_NEXT_TWO_LINES = """first => {
  const range = document.createRange();
  range.setStartBefore(first);
  range.setEndAfter(first.nextElementSibling.nextElementSibling);
  getSelection().removeAllRanges();
  getSelection().addRange(range);
}"""


def a_line_opens_by_keyboard_or_click_and_the_filter_narrows(page: Page, job_id: str) -> None:
    panel = page.locator("#audit-panel")
    panel.locator(".log").focus()
    page.keyboard.press("Home")  # by keyboard: to the first line, Enter for its full event
    page.keyboard.press("Enter")
    first = json.loads(api_get(page.context, f"/v1/jobs/{job_id}/audit?format=ndjson").text().splitlines()[0])
    assert json.loads(panel.locator(".log .detail").first.text_content()) == first
    panel.locator(".log .line").nth(0).click()  # a click closes it again
    expect(panel.locator(".log .detail")).to_have_count(0)
    for label, shows in FILTERS.items():
        panel.get_by_role("radio", name=label, exact=True).check()
        shown = panel.locator(".log .line:visible").evaluate_all("ls => ls.map(l => l.textContent.split(/\\s+/)[3])")
        assert shown and all(shows(t) for t in shown), (label, set(shown))
    panel.get_by_label("All", exact=True).check()


FILTERS = {"SQL": lambda t: t.startswith("db."), "LLM": lambda t: t == "llm.call",
           "Chunks": lambda t: t.startswith(("chunk.", "job.chunk_"))}


def the_panel_stays_until_dismissed(page: Page) -> None:
    panel = page.locator("#audit-panel")
    expect(panel).to_be_visible()
    panel.get_by_role("button", name="Close the audit panel").click()
    expect(panel).to_be_hidden()


def job_history_opens_the_document_and_replays_the_log(page: Page, title: str, job_id: str, seqs: list[int]) -> None:
    page.get_by_role("link", name="Job History").click()
    row = page.locator("#history tbody tr", has_text=title)
    expect(row).to_contain_text("completed")
    job = api_get(page.context, f"/v1/jobs/{job_id}").json()
    expect(row).to_contain_text(f"{job['words']:,} / {TARGET:,}")
    page.screenshot(path=ARTIFACTS / "job-history.png", full_page=True)
    on_a_phone(page, "job-history-phone.png")  # each job a card

    row.get_by_role("link", name="Document").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    the_reader_is_the_document_with_its_contents(page, job_id)
    head = page.locator("#job .job-facts .chain-head")  # the log's chain head, as verify recomputed it
    expect(head).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    expect(page.locator("#job .job-facts")).to_contain_text("Audit log chain")
    expect(page.locator("#job .job-facts")).to_contain_text("intact")
    for fmt in ("txt", "md"):
        with page.expect_download() as started:
            page.locator(f'.doc-link[data-format="{fmt}"]').click()
        expected = api_get(page.context, f"/v1/jobs/{job_id}/document?format={fmt}").body()
        assert Path(started.value.path()).read_bytes() == expected
    with page.expect_download() as started:
        page.locator('.doc-link[data-format="docx"]').click()
    assert Path(started.value.path()).read_bytes()[:2] == b"PK"  # a .docx is a zip

    page.get_by_role("button", name="Show the audit log").click()  # replayed from the first line
    panel = page.locator("#audit-panel")
    expect(panel.locator(".log .line").nth(len(seqs) - 1)).to_be_attached()
    assert panel_seqs(page)[: len(seqs)] == seqs
    on_a_phone(page, "audit-panel-phone.png")  # the panel covers the page


def the_reader_is_the_document_with_its_contents(page: Page, job_id: str) -> None:
    """The page shows the markdown download block for block (headings as headings), at a measure of
    60 to 80 characters, and its table of contents moves to each heading."""
    markdown = api_get(page.context, f"/v1/jobs/{job_id}/document?format=md").text()
    blocks = [b.strip() for b in re.split(r"\n\s*\n", markdown) if b.strip()][1:]  # the title is the page's
    wanted = [(f"h{len(b.split()[0]) + 1}", b.split(" ", 1)[1]) if re.match(r"#{2,6} ", b) else ("p", b) for b in blocks]
    reader = page.locator("#job .document")
    expect(reader.locator("> *").nth(len(wanted) - 1)).to_be_attached()
    assert reader.locator("> *").evaluate_all("els => els.map(e => [e.localName, e.textContent])") == [
        list(w) for w in wanted]
    measure = reader.evaluate("""el => {
      const probe = Object.assign(document.createElement("span"), {textContent: "0".repeat(100)});
      el.append(probe); const ch = probe.getBoundingClientRect().width / 100; probe.remove();
      return el.getBoundingClientRect().width / ch; }""")
    assert 60 <= measure <= 80, measure
    headings = [text for tag, text in wanted if tag != "p"]
    links = page.get_by_role("navigation", name="Contents").get_by_role("link")
    assert len(headings) >= 2 and links.all_text_contents() == headings
    links.last.click()
    expect(reader.locator(f"#{links.last.get_attribute('href')[1:]}")).to_be_focused()
    expect(reader.locator(f"#{links.last.get_attribute('href')[1:]}")).to_be_in_viewport()


def on_a_phone(page: Page, screenshot: str) -> None:
    """At 390 pixels wide nothing runs off the side of the page (the log scrolls within itself), the
    header is one line, and an open panel gives its log at least 60 % of the screen."""
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    header = page.locator("header.top").bounding_box()
    assert header["height"] <= 48, header  # one line of links, not a wrapped heap
    log = page.locator("#audit-panel .log")
    if log.is_visible():
        assert log.bounding_box()["height"] >= 0.6 * 844, log.bounding_box()
    page.screenshot(path=ARTIFACTS / screenshot)
    page.set_viewport_size({"width": 1400, "height": 900})


def another_user_sees_none_of_it(context: BrowserContext, job_id: str) -> None:
    """Not in their history, not at the job's address, not its log, not its downloads."""
    page = sign_up(context)
    page.get_by_role("link", name="Job History").click()
    expect(page.locator(".history-status")).to_have_text("No jobs yet.")
    answer = page.goto(f"/jobs/{job_id}?audit")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("No such job")
    assert page.locator("#audit-panel").count() == 0 and job_id not in page.content()
    for path in (f"/v1/jobs/{job_id}", f"/v1/jobs/{job_id}/audit?format=txt", f"/v1/jobs/{job_id}/document"):
        assert context.request.get(path).status == 404


def test_job_history_pages_cancels_resumes_and_deletes_with_confirmation(browser) -> None:
    page = sign_up(browser())
    panel = page.locator("#audit-panel")
    titles = [f"Canal {n} {secrets.token_hex(3)}" for n in range(3)]
    for title in titles[:2]:
        started(page, title, 1)
        expect(panel.locator(".panel-status")).to_contain_text("Job completed")
    started(page, titles[2], TARGET, SLOW_WRITER)
    expect(panel.locator(".panel-status")).to_contain_text("Live")

    page.goto("/jobs?limit=2")  # newest first, two a page
    rows = page.locator("#history tbody tr")
    expect(rows).to_have_count(2)
    assert [rows.nth(i).locator("a").first.text_content() for i in range(2)] == [titles[2], titles[1]]
    page.get_by_role("link", name="Older jobs").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(titles[0])
    page.get_by_role("link", name="Newest jobs").click()

    running = page.locator("#history tbody tr", has_text=titles[2])
    job_id = running.get_attribute("data-job-id")
    running.get_by_role("button", name="Cancel").click()
    expect(running).to_contain_text("cancelled")  # the row follows the job by itself
    running.get_by_role("button", name="Resume").click()
    expect(page.locator(".history-status")).to_have_text(f"Resuming “{titles[2]}”.")
    expect(running.locator("td").nth(1)).not_to_have_text("cancelled")  # writing again
    assert api_get(page.context, f"/v1/jobs/{job_id}").json()["status"] not in ("cancelled", "failed")

    running.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(titles[2])
    dialog.get_by_role("button", name="Keep it").click()
    expect(page.locator(".history-status")).to_have_text("Nothing was deleted.")
    api_get(page.context, f"/v1/jobs/{job_id}")
    running.get_by_role("button", name="Delete").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(running).to_have_count(0)
    expect(page.locator(".history-status")).to_have_text(f"Deleted “{titles[2]}”.")
    assert page.context.request.get(f"/v1/jobs/{job_id}").status == 404


@pytest.fixture(scope="module")
def member(browser) -> Page:
    """A signed-up user's page, for tests that do not change the account."""
    return sign_up(browser())


def test_refusals_appear_next_to_their_fields(member) -> None:
    page = member
    page.goto("/")
    submit(page, "Too short", 0)
    error = page.locator("#target_words-error")
    expect(error).to_be_visible()
    refused = page.context.request.post("/v1/jobs", headers={"X-Longform-CSRF": "1"}, multipart={
        "mode": "generate", "title": "Too short", "instructions": "Rivers.", "target_words": "0"}).json()
    assert error.text_content() == refused["message"]  # the page says it as the server would, in a sentence
    expect(page.get_by_label("Target words", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#audit-panel")).to_be_hidden()

    page.get_by_label("Mode", exact=True).select_option("rewrite")
    submit(page, "No source", 100)
    expect(page.locator("#source-error")).to_have_text(
        "A rewrite needs a source: paste the text or choose a file (.txt, .md or .docx).")
    expect(page.locator("#target_words-error")).to_be_hidden()

    posted = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" and r.url.endswith("/v1/jobs") else None)
    page.get_by_label("or upload a file (.txt, .md, .docx)").set_input_files(
        files=[{"name": "huge.txt", "mimeType": "text/plain", "buffer": b"word " * (9 * 1024 * 1024 // 5)}])
    submit(page, "Too large", 100)
    expect(page.locator("#source-error")).to_have_text(
        "The source is 9 MB; the limit is 8 MB. Split it or condense it first.")
    page.get_by_label("or upload a file (.txt, .md, .docx)").set_input_files(
        files=[{"name": "essay.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7"}])
    submit(page, "Wrong type", 100)
    expect(page.locator("#source-error")).to_have_text("Only .txt, .md and .docx files can be a source.")
    assert posted == []  # refused in the page: nothing was uploaded

    source = "\n\n".join(f"Paragraph {n} of the canal essay, about locks and towpaths." for n in range(30))
    page.get_by_label("or upload a file (.txt, .md, .docx)").set_input_files(
        files=[{"name": "canals.md", "mimeType": "text/markdown", "buffer": source.encode()}])
    started(page, "Canals condensed", 100)
    requested = page.locator("#audit-panel .log .line.t-other", has_text="job.requested")
    expect(requested).to_contain_text(f"source_words={count_words(source)}")
    page.go_back()  # the form the job came from starts empty, though the browser keeps pages it leaves
    expect(page.get_by_role("heading", name="New job")).to_be_visible()
    expect(page.get_by_label("Title", exact=True)).to_have_value("")
    expect(page.get_by_label("Target words", exact=True)).to_have_value("")
    expect(page.locator("#source-error")).to_be_hidden()
    page.go_forward()  # and the job's page follows its job again
    expect(page.locator("#audit-panel .panel-job")).to_have_text("· Canals condensed")


def test_signing_out_and_in_again(browser) -> None:
    page = sign_up(browser())
    expect(page.locator("#me")).not_to_be_empty()
    email = page.locator("#me").text_content()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/jobs")
    expect(page).to_have_url(re.compile(r"/login\?next=/jobs$"))
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".form-error")).to_have_text("wrong email or password")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Job History")).to_be_visible()


def test_the_panel_keeps_up_with_tens_of_thousands_of_lines(member) -> None:
    """A stand-in socket in the page delivers 20,000 lines at once; the panel shows each once, in
    order, still at the live end, in blocks of 200 lines, and filters them."""
    total = 20_000
    job_id = member.context.request.post("/v1/jobs", headers={"X-Longform-CSRF": "1"}, multipart={
        "mode": "generate", "title": "Flood", "instructions": "Rivers.", "target_words": "1"}).json()["id"]
    page = member.context.new_page()
    page.add_init_script(FLOODING_SOCKET.replace("TOTAL", str(total)))
    page.goto(f"/jobs/{job_id}?audit")
    flat_log(page)
    panel = page.locator("#audit-panel")
    expect(panel.locator(".line-count")).to_have_text(f"{total:,} lines")
    assert panel_seqs(page) == list(range(1, total + 1))
    assert panel.locator(".log > .block").count() == total // 200
    assert log_position(page)["gap"] <= 24  # still following the live end
    panel.get_by_label("Errors", exact=True).check()
    assert panel.locator(".log .line:visible").count() == total // 1000
    page.close()


FLOODING_SOCKET = """
window.WebSocket = class {
  constructor(url) {
    setTimeout(() => {
      this.onopen?.();
      for (let seq = 1; seq <= TOTAL; seq++) {
        const type = seq % 1000 === 0 ? "error.raised" : "db.query";
        this.onmessage?.({ data: JSON.stringify({ seq, type, event_id: String(seq), service: "audit", job_id: null,
          user_id: null, ts: "2026-01-01T00:00:00.000000+00:00", data: { statements: [{ sql: "SELECT 1" }] } }) });
      }
    }, 0);
  }
  close() {}
};
"""
