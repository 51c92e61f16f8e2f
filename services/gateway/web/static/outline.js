// The plan beside the Audit Panel (issue 17): the outline from GET /v1/jobs/{id}/plan, a bar per
// section of words written against its budget, read again (at most once a second) when an event
// of the job's live log changes it; a section's button shows what it has so far
// (GET /v1/jobs/{id}/sections/{index}).

import { api, jobUrl, number } from "./api.js";
import { OutlineEditor } from "./outline_editor.js";
import { throttled } from "./throttle.js";

const CHANGES_PLAN = new Set(["job.planned", "chunk.processed", "job.extended", "job.completed", "job.failed",
  "job.cancelled", "job.resumed", "job.awaiting_review", "job.plan_edited", "job.approved"]);

export class Outline {
  constructor(root, jobId) {
    Object.assign(this, { root, jobId, plan: null });
    this.tree = root.querySelector(".outline-tree");
    this.summary = root.querySelector(".outline-summary");
    this.reader = root.querySelector(".section-reader");
    this.refresh = throttled(() => this.read(), 1000);
    this.editor = new OutlineEditor(root, jobId, () => this.refresh());
  }

  // The job's status as the page last read it (the editor opens by it).
  setJobStatus(status) {
    this.jobStatus = status;
    this.editor.ready(status === "awaiting_review");
    if (this.plan?.state === null) this.render();  // only the "not planned yet" line says the status
  }

  // Called for every event of the job, in seq order (the job page's live log).
  onEvent(event) {
    if (CHANGES_PLAN.has(event.type)) this.refresh();
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
      this.summary.textContent = this.jobStatus === "queued"
        ? "The job waits in your queue: it is planned when it starts." : "The job is still being planned.";
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
