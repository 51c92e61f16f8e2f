// Job History: the user's jobs, newest first, a page at a time (GET /v1/jobs?before=...&limit=...),
// with each job's document, audit log, resume, cancel and delete. While a job on the page runs, the
// page is read again every few seconds and the rows that changed are redrawn in place.

import { ENDED, api, formatDate, jobUrl, number } from "./api.js";
import { auditPanel } from "./panel.js";
import { setUpNav } from "./site.js";

const REFRESH_MS = 5000;
const SOON_MS = 1000;  // just after a cancel or resume, the change is looked for more often
const SOON_FOR_MS = 15_000;
const AWAIT_RESUME_MS = 60_000;  // a resumed job shows "failed"/"cancelled" until the planner takes it up
let soonUntil = 0;
let refreshTimer = null;

setUpNav();
const body = document.querySelector("#history tbody");
const status = document.querySelector(".history-status");
const dialog = document.querySelector("#confirm-delete");
const params = new URLSearchParams(location.search);
const pageSize = Math.min(Math.max(parseInt(params.get("limit"), 10) || 50, 1), 200);

// Each cell names its column too: on a phone the rows are shown as cards, without the table's head.
function cell(label, content) {
  const td = document.createElement("td");
  td.dataset.label = label;
  if (content instanceof Node) td.append(content); else td.textContent = content;
  return td;
}

function button(label, action, name) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.className = `act-${action}`;
  b.setAttribute("aria-label", `${label}: ${name}`);
  b.dataset.action = action;
  return b;
}

function row(job) {
  const tr = document.createElement("tr");
  tr.dataset.jobId = job.id;
  tr.dataset.status = job.status;
  const title = Object.assign(document.createElement("a"), { href: `/jobs/${job.id}`, textContent: job.title });
  const actions = document.createElement("div");
  actions.className = "row-actions";
  if (job.status === "completed") {
    actions.append(Object.assign(document.createElement("a"),
      { href: `/jobs/${job.id}`, textContent: "Document", className: "act-document" }));
  }
  actions.append(button("Audit log", "audit", job.title));
  if (job.status === "failed" || job.status === "cancelled") actions.append(button("Resume", "resume", job.title));
  if (!ENDED.has(job.status)) actions.append(button("Cancel", "cancel", job.title));
  actions.append(button("Delete", "delete", job.title));
  tr.append(cell("Title", title), cell("Status", job.status + (job.error ? `: ${job.error}` : "")),
    cell("Words", `${number(job.words)} / ${number(job.target_words)}`), cell("Model", job.model ?? "default"),
    cell("Created", formatDate(job.created_at)), cell("Ended", formatDate(job.ended_at)), cell("Actions", actions));
  tr.job = job;
  return tr;
}

async function readPage() {
  const query = new URLSearchParams({ limit: pageSize });
  if (params.get("before")) query.set("before", params.get("before"));
  return api("GET", `/v1/jobs?${query}`);
}

async function loadPage() {
  const page = await readPage();
  body.replaceChildren(...page.jobs.map(row));
  const n = page.jobs.length;
  status.textContent = n ? `${n} ${n === 1 ? "job" : "jobs"} on this page, newest first.` : "No jobs yet.";
  const older = document.querySelector(".pager .older");
  older.hidden = !page.next_before;
  if (page.next_before) {
    older.href = `/jobs?${new URLSearchParams({ before: page.next_before, ...(params.has("limit") && { limit: pageSize }) })}`;
  }
  document.querySelector(".pager .newest").hidden = !params.get("before");
}

// Redraws a row in place, keeping the keyboard focus on the same control.
function redraw(tr, job) {
  const focused = tr.contains(document.activeElement) ? document.activeElement.dataset.action ?? "audit" : null;
  const fresh = row(job);
  if (ENDED.has(job.status) && Number(tr.dataset.awaitingUntil) > Date.now()) {
    fresh.dataset.awaitingUntil = tr.dataset.awaitingUntil;
  }
  tr.replaceWith(fresh);
  if (focused) (fresh.querySelector(`[data-action=${focused}]`) ?? fresh.querySelector("[data-action=audit]")).focus();
  return fresh;
}

async function refresh(tr) {
  try {
    return redraw(tr, await api("GET", jobUrl(tr.dataset.jobId)));
  } catch (error) {
    if (error.status === 404) tr.remove();
    return null;
  }
}

async function refreshRunning() {
  const running = [...body.querySelectorAll("tr")].some(
    (tr) => !ENDED.has(tr.dataset.status) || Number(tr.dataset.awaitingUntil) > Date.now());
  if (running) {
    try {
      for (const job of (await readPage()).jobs) {
        const tr = body.querySelector(`tr[data-job-id="${job.id}"]`);
        if (tr && JSON.stringify(tr.job) !== JSON.stringify(job)) redraw(tr, job);
      }
    } catch { /* the next round tries again */ }
  }
  scheduleRefresh(Date.now() < soonUntil ? SOON_MS : REFRESH_MS);
}

function scheduleRefresh(ms) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshRunning, ms);
}

function confirmDelete(title) {
  dialog.querySelector(".confirm-name").textContent = title;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "delete"),
    { once: true }));
}

const ACTIONS = {
  audit: async (tr) => auditPanel().open(tr.dataset.jobId, tr.job.title),
  resume: async (tr) => {
    await api("POST", `${jobUrl(tr.dataset.jobId)}/resume`);
    tr.dataset.awaitingUntil = Date.now() + AWAIT_RESUME_MS;
    return `Resuming “${tr.job.title}”.`;
  },
  cancel: async (tr) => { await api("POST", `${jobUrl(tr.dataset.jobId)}/cancel`); return `Cancelling “${tr.job.title}”.`; },
  delete: async (tr) => {
    if (!(await confirmDelete(tr.job.title))) return "Nothing was deleted.";
    await api("DELETE", jobUrl(tr.dataset.jobId));
    const next = tr.nextElementSibling ?? tr.previousElementSibling;
    tr.remove();
    (next?.querySelector("a") ?? document.querySelector("#main")).focus();
    return `Deleted “${tr.job.title}”.`;
  },
};

body.addEventListener("click", async (e) => {
  const target = e.target.closest("button[data-action]");
  if (!target) return;
  const tr = target.closest("tr");
  try {
    const said = await ACTIONS[target.dataset.action](tr);
    soonUntil = Date.now() + SOON_FOR_MS;
    scheduleRefresh(SOON_MS);
    if (said) status.textContent = said;
    if (tr.isConnected && target.dataset.action !== "audit") await refresh(tr);
  } catch (error) {
    status.textContent = error.message;
  }
});

loadPage().then(() => scheduleRefresh(REFRESH_MS), (error) => { status.textContent = error.message; });
