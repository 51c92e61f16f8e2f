// One job's own page, live: its progress, outline, document and audit log all follow one live
// log (live.js), so a reload keeps everything. Cancel and Resume while it runs or after it stopped;
// Read, the downloads and New job when it is done. A stopped job's document is what it wrote,
// marked partial.

import { ENDED, STOPPED, api, formatDate, jobUrl, number } from "./api.js";
import { LiveLog } from "./live.js";
import { Outline } from "./outline.js";
import { auditPanel } from "./panel.js";
import { Progress } from "./progress.js";
import { render } from "./reader.js";
import { setUpNav } from "./site.js";
import { throttled } from "./throttle.js";

const CHANGES_DOCUMENT = new Set(["chunk.processed", "document.assembled", "job.completed", "job.cancelled",
  "job.failed", "job.extended"]);
const WIDE = "(min-width: 64rem)";  // where the panel sits beside the page (site.css) instead of over it

setUpNav();
const root = document.querySelector("#job");
const jobId = root.dataset.jobId;
const get = (sel) => root.querySelector(sel);
const feed = new LiveLog(jobId);
const progress = new Progress(get(".progress"));
const outline = new Outline(get("#outline"), jobId);
// A long document is read again less often: each read is the whole text so far.
const reread = throttled(() => showDocument(progress.job), () => Math.max(5000, (progress.job?.words ?? 0) / 2));
let shown = null;  // the status the page was last drawn for

async function load() {
  let job;
  try {
    job = await api("GET", jobUrl(jobId));
  } catch (error) {
    get(".job-status").textContent = error.status === 404 ? "This job does not exist, or is not yours." : error.message;
    return;
  }
  document.title = `${job.title} · Longform`;
  get(".job-title").textContent = job.title;
  showFacts(job);
  progress.track(jobId, job);
  progress.onRead(update);
  feed.listen((event) => {
    progress.onEvent(event);
    outline.onEvent(event);
    if (CHANGES_DOCUMENT.has(event.type)) reread();
  });
  const panel = auditPanel();
  panel.attach(feed, job.title, matchMedia(WIDE).matches || new URLSearchParams(location.search).has("audit"));
  get(".show-audit").onclick = () => panel.reveal();
  get(".cancel-job").onclick = () => act("cancel", "Cancelling: what is written is kept…");
  get(".resume-job").onclick = () => act("resume", "Resuming from the first chunk not written…");
  outline.refresh();
  update(job);
  feed.start();
}

function showFacts(job) {
  const facts = [["Mode", job.mode], ["Model", job.model ?? "default"], ["Created", formatDate(job.created_at)]];
  get(".job-facts").replaceChildren(...facts.flatMap(([term, value]) => {
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = term; dd.textContent = value;
    return [dt, dd];
  }));
}

// Buttons, links and the document as the job's status has them.
function update(job) {
  get(".job-status").textContent = sentence(job);
  outline.setJobStatus(job.status);
  const done = job.status === "completed", stopped = STOPPED.has(job.status);
  get(".cancel-job").hidden = ENDED.has(job.status);
  get(".resume-job").hidden = !stopped;
  get(".read-link").hidden = get(".new-job-link").hidden = !done;
  for (const link of root.querySelectorAll(".doc-link")) {
    link.hidden = !done && !(stopped && job.words > 0);
    link.href = `${jobUrl(jobId)}/document?format=${link.dataset.format}`;
    link.textContent = `Download .${link.dataset.format}${done ? "" : " (partial)"}`;
  }
  if (job.status !== shown) {
    if (ENDED.has(job.status) && !ENDED.has(shown)) showChain();
    shown = job.status;
    reread();
  }
}

function sentence(job) {
  const words = `${number(job.words)} of ${number(job.target_words)} words`;
  if (job.status === "completed") return `Completed: ${words}.`;
  if (job.status === "cancelled") return `Cancelled at ${words}. Resume it to write the rest.`;
  if (job.status === "failed") return `Failed at ${words}: ${job.error ?? "no reason recorded"}. Resume it to go on.`;
  if (job.status === "awaiting_review") return "Planned: the outline waits for your review below.";
  if (job.status === "queued") return `Queued: number ${job.queue_place ?? "?"} in your queue. It starts when one of`
    + " your running jobs ends.";
  return `${job.status[0].toUpperCase()}${job.status.slice(1)}: ${words} so far.`;
}

async function act(command, saying) {
  const status = get(".action-status");
  status.textContent = saying;
  try {
    await api("POST", `${jobUrl(jobId)}/${command}`);
  } catch (error) {
    status.textContent = error.sentence ?? error.message;
  }
}

// The log's hash chain, recomputed by the server: its head is what a download, the CLI's
// `longform audit verify` or docs/verify_audit_log.py must reach (and what was published on NATS
// when the job completed, at that event's seq).
async function showChain() {
  let verdict;
  try {
    verdict = await api("GET", `${jobUrl(jobId)}/audit/verify`);
  } catch (error) {
    return;
  }
  const dt = document.createElement("dt"), dd = document.createElement("dd");
  dt.textContent = "Audit log chain";
  const code = document.createElement("code");
  code.className = "chain-head";
  code.textContent = verdict.head;
  dd.append(verdict.intact ? `intact, ${number(verdict.events)} events, head at seq ${verdict.head_seq}: `
                           : `BROKEN at seq ${verdict.first_bad_seq} (${verdict.reason}); reached `, code);
  get(".job-facts").append(dt, dd);
}

// The finished document, or what is written so far (a stopped job's document is that, marked).
async function showDocument(job) {
  const status = get(".document-status");
  if (!job || !job.words) { status.textContent = "Nothing is written yet."; return; }
  const partial = job.status !== "completed" && !STOPPED.has(job.status);
  const response = await fetch(`${jobUrl(jobId)}/document?format=md${partial ? "&partial=true" : ""}`,
                               { credentials: "same-origin" });
  if (!response.ok) { status.textContent = `The document could not be read (${response.status}).`; return; }
  render(await response.text(), get(".document"), get(".contents"));
  status.textContent = job.status === "completed" ? "" : `What is written so far (${job.status}).`;
}

load();
