// The plan beside the Audit Panel (issue 17): the outline from GET /v1/jobs/{id}/plan, a bar per
// section of words written against its budget, read again (at most once a second) when an event
// that changes it arrives on the job's live log; a section's button shows what it has so far
// (GET /v1/jobs/{id}/sections/{index}).

import { api, jobUrl, liveUrl, number } from "./api.js";
import { OutlineEditor } from "./outline_editor.js";

const CHANGES_PLAN = new Set(["job.planned", "chunk.processed", "job.extended", "job.completed", "job.failed",
  "job.cancelled", "job.resumed", "job.awaiting_review", "job.plan_edited", "job.approved"]);
const ENDED = new Set(["job.completed", "job.failed", "job.cancelled"]);
const AT_MOST_EVERY_MS = 1000;

export class Outline {
  constructor(root, jobId) {
    Object.assign(this, { root, jobId, lastSeq: 0, timer: null, again: false, plan: null });
    this.tree = root.querySelector(".outline-tree");
    this.summary = root.querySelector(".outline-summary");
    this.reader = root.querySelector(".section-reader");
    this.editor = new OutlineEditor(root, jobId);
  }

  start(job) {
    this.lastSeq = job.last_seq;
    this.refresh();
    if (!["completed", "failed", "cancelled"].includes(job.status)) this.follow();
  }

  follow() {
    const socket = new WebSocket(liveUrl(this.jobId, this.lastSeq));
    socket.onmessage = (message) => this.receive(JSON.parse(message.data));
    socket.onclose = (event) => {
      if (!this.ended && event.code !== 4401 && event.code !== 4404) setTimeout(() => this.follow(), 1000);
    };
    this.socket = socket;
  }

  receive(event) {
    if (event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    if (CHANGES_PLAN.has(event.type)) this.refresh();
    if (ENDED.has(event.type)) { this.ended = true; this.socket?.close(1000, "job ended"); }
  }

  // One read at a time, and at most one a second however fast the events come (each read is a
  // line of the job's log).
  refresh() {
    if (this.timer) { this.again = true; return; }
    this.again = false;
    this.timer = setTimeout(() => { this.timer = null; if (this.again) this.refresh(); }, AT_MOST_EVERY_MS);
    this.read();
  }

  async read() {
    try {
      this.plan = await api("GET", `${jobUrl(this.jobId)}/plan`);
    } catch (error) {
      this.summary.textContent = `The plan could not be read: ${error.message}`;
      return;
    }
    this.render();
    this.root.dispatchEvent(new CustomEvent("plan-read", { detail: this.plan }));
  }

  render() {
    const plan = this.plan;
    if (plan.state === null) {
      this.summary.textContent = "The job is still being planned.";
      this.tree.replaceChildren();
      return;
    }
    const leaves = [...walk(plan.sections)].filter((n) => n.index !== undefined);
    const done = leaves.filter((n) => n.status === "done").length;
    this.summary.textContent = `${plan.state}: ${done} of ${leaves.length} sections written;`
      + ` planned ${number(plan.planned_words)} words for a target of ${number(plan.target_words)}.`;
    this.root.dataset.state = plan.state;
    const reviewing = plan.state === "awaiting_review";
    this.tree.hidden = reviewing;
    if (reviewing) { this.editor.show(plan); return; }
    this.editor.hide();
    this.tree.replaceChildren(this.list(plan.sections));
  }

  list(nodes) {
    const ul = document.createElement("ul");
    for (const node of nodes) {
      const li = document.createElement("li");
      li.className = `outline-node status-${node.status}`;
      li.dataset.level = node.level;
      li.append(this.row(node));
      if (node.sections) li.append(this.list(node.sections));
      ul.append(li);
    }
    return ul;
  }

  row(node) {
    const row = document.createElement(node.index === undefined ? "div" : "button");
    row.className = "outline-row";
    const title = Object.assign(document.createElement("span"), { className: "outline-title", textContent: node.title });
    const figures = Object.assign(document.createElement("span"), { className: "outline-figures",
      textContent: `${node.status} · ${number(node.words)} / ${number(node.budget_words)} words`
        + ` · ${node.chunks_done}/${node.chunks} chunks` });
    const bar = Object.assign(document.createElement("progress"), { max: Math.max(node.budget_words, 1),
      value: Math.min(node.words, Math.max(node.budget_words, 1)) });
    bar.setAttribute("aria-label", `${node.title}: ${number(node.words)} of ${number(node.budget_words)} words`);
    row.append(title, figures, bar);
    if (node.index !== undefined) {
      row.type = "button";
      row.dataset.index = node.index;
      row.setAttribute("aria-controls", "section-reader");
      row.addEventListener("click", () => this.show(node));
    }
    return row;
  }

  async show(node) {
    const heading = this.reader.querySelector("h3"), text = this.reader.querySelector(".section-text");
    this.reader.hidden = false;
    heading.textContent = node.title;
    text.textContent = "Reading…";
    try {
      const section = await api("GET", `${jobUrl(this.jobId)}/sections/${node.index}`);
      text.replaceChildren(...(section.text ? section.text.split(/\n\s*\n/).map((p) =>
        Object.assign(document.createElement("p"), { textContent: p })) : [document.createTextNode(
        `Nothing written yet (${section.status}, ${section.chunks_done} of ${section.chunks} chunks).`)]));
    } catch (error) {
      text.textContent = `The section could not be read: ${error.message}`;
    }
    text.focus();
  }
}

export function* walk(nodes) {
  for (const node of nodes) {
    yield node;
    if (node.sections) yield* walk(node.sections);
  }
}
