// One job: its state, its document read in the page (a completed job's), downloads, its audit log.

import { api, formatDate, jobUrl, number } from "./api.js";
import { Outline } from "./outline.js";
import { auditPanel } from "./panel.js";
import { setUpNav } from "./site.js";

setUpNav();
const root = document.querySelector("#job");
const jobId = root.dataset.jobId;
const get = (sel) => root.querySelector(sel);

for (const link of root.querySelectorAll(".doc-link")) {
  link.href = `${jobUrl(jobId)}/document?format=${link.dataset.format}`;
}

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
  get(".job-status").textContent = `Status: ${job.status}` + (job.error ? ` (${job.error})` : "");
  const tokens = `${number(job.tokens_in + job.tokens_out)} (in ${number(job.tokens_in)}, out ${number(job.tokens_out)})`;
  const facts = [["Mode", job.mode], ["Words", `${number(job.words)} of ${number(job.target_words)}`],
    ["Chunks", `${number(job.chunks_done)} of ${number(job.chunks_total)}`], ["Model", job.model ?? "default"],
    ...(job.passages_total ? [["Passages noted", `${number(job.passages_noted)} of ${number(job.passages_total)}`]] : []),
    ["Tokens", tokens],
    ["Created", formatDate(job.created_at)], ["Writing from", formatDate(job.started_at)],
    ["Ended", formatDate(job.ended_at)]];
  get(".job-facts").replaceChildren(...facts.flatMap(([term, value]) => {
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = term; dd.textContent = value;
    return [dt, dd];
  }));
  get(".show-audit").onclick = () => auditPanel().open(jobId, job.title);
  showChain();
  new Outline(get("#outline"), jobId).start(job);
  for (const link of root.querySelectorAll(".doc-link")) link.hidden = job.status !== "completed";
  await showDocument(job);
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

async function showDocument(job) {
  const doc = get(".document");
  if (job.status !== "completed") {
    doc.textContent = `The document is ready when the job has completed (it is ${job.status}).`;
    return;
  }
  const response = await fetch(`${jobUrl(jobId)}/document?format=txt`, { credentials: "same-origin" });
  if (!response.ok) { doc.textContent = `The document could not be read (${response.status}).`; return; }
  const paragraphs = (await response.text()).split(/\n\s*\n/);
  const fragment = document.createDocumentFragment();
  for (const text of paragraphs) {
    const p = document.createElement("p");
    p.textContent = text;
    fragment.append(p);
  }
  doc.replaceChildren(fragment);
}

load();
if (new URLSearchParams(location.search).has("audit")) auditPanel().open(jobId);
