// The story view of the Audit Panel: the job told by its steps (storymodel.js), one expandable line
// per step: the plan's sections (open), under each its chunks (closed), and the steps that are not
// chunks. A step opens to its LLM calls and checks, and those to the statements and row events of
// the step. Events are folded in as they come; the page is changed once per animation frame, and
// a step's lines are made only when it is opened, so a job of tens of thousands of lines stays light.

import { category, shownLine } from "./lines.js";
import { told } from "./storylines.js";
import { isRecord, StoryModel, summaryOf } from "./storymodel.js";

const SHOWN_AT_ONCE = 500;  // lines made per "Show more", in the few steps that have thousands

export class StoryView {
  // `rawOf(index)`: the event at that position of the log, as it came (the flat view keeps them all).
  constructor(root, rawOf) {
    Object.assign(this, { root, rawOf });
    root.addEventListener("toggle", (e) => this.onToggle(e.target), true);  // toggle does not bubble
    root.addEventListener("click", (e) => this.onClick(e));
    root.addEventListener("keydown", (e) => this.onKey(e));
  }

  reset() {
    cancelAnimationFrame(this.frame);
    Object.assign(this, { model: new StoryModel(), elements: new Map(), frame: null });
    this.main = Object.assign(document.createElement("div"), { className: "story-steps" });
    this.foot = Object.assign(document.createElement("div"), { className: "story-foot" });
    this.root.replaceChildren(this.main, this.foot);
  }

  add(event, index) {
    this.model.add(event, index);
    this.frame ??= requestAnimationFrame(() => this.render());
  }

  render() {
    this.frame = null;
    for (const node of this.model.created.splice(0)) this.attach(node);
    for (const node of this.model.changed) this.refresh(node);
    this.model.changed.clear();
  }

  // A node's line goes under its section (a chunk), at the foot (bookkeeping) or in order (a
  // section in the plan's order).
  attach(node) {
    const element = this.elements.get(node) ?? this.element(node);
    if (node.kind === "chunk" && node.parent) {  // its section may be newer than the chunk
      this.attach(node.parent);
      this.elements.get(node.parent).querySelector(".story-body").append(element);
    } else if (!element.parentElement) {
      (node.kind === "bookkeeping" ? this.foot : this.main).append(element);
      if (node.kind === "section") this.inPlanOrder(element, node.index);
    }
  }

  // Sections written side by side are sent in any order; the story lists them in the plan's.
  inPlanOrder(element, index) {
    const later = [...this.main.children].find((other) => other.storyNode?.kind === "section"
      && other.storyNode.index > index);
    if (later) later.before(element);
  }

  element(node) {
    const details = document.createElement("details");
    details.className = `story-node k-${node.kind}`;
    details.dataset.key = node.key;
    details.open = node.kind === "section";  // its chunks are the story's outline
    const summary = document.createElement("summary");
    const body = Object.assign(document.createElement("div"), { className: "story-body" });
    details.append(summary, body);
    details.storyNode = node;
    this.elements.set(node, details);
    return details;
  }

  refresh(node) {
    const element = this.elements.get(node);
    if (!element) return;
    const text = summaryOf(node);
    const summary = element.firstElementChild;
    if (summary.textContent !== text) summary.textContent = text;
    if (element.storyShown !== undefined) this.showMore(element, "lines");
    const records = element.storyRecords;
    if (records) {
      records.firstElementChild.textContent = recordsTitle(node);
      if (records.open) this.showMore(records, "records");
    }
  }

  onToggle(target) {
    if (!target.open) return;
    if (target.storyShown !== undefined) return;
    if (target.classList.contains("story-node") && target.storyNode.kind !== "section") this.fill(target);
    if (target.classList.contains("story-records")) {
      target.storyShown = 0;
      this.showMore(target, "records");
    }
  }

  // A step opened the first time: its LLM calls and checks, then its statements (closed).
  fill(element) {
    const node = element.storyNode;
    element.storyShown = 0;
    const body = element.querySelector(".story-body");
    const records = document.createElement("details");
    records.className = "story-records";
    records.storyNode = node;
    records.append(Object.assign(document.createElement("summary"), { textContent: recordsTitle(node) }),
      Object.assign(document.createElement("div"), { className: "story-lines" }));
    body.append(Object.assign(document.createElement("div"), { className: "story-lines" }), records);
    element.storyRecords = records;
    this.showMore(element, "lines");
  }

  // Appends the lines of `which` ("lines" or "records") not yet shown, SHOWN_AT_ONCE at most.
  showMore(element, which) {
    const indexes = element.storyNode[which];
    const list = element.querySelector(".story-lines");
    const end = Math.min(indexes.length, element.storyShown + SHOWN_AT_ONCE);
    const fragment = document.createDocumentFragment();
    for (let i = element.storyShown; i < end; i++) fragment.append(this.line(indexes[i]));
    list.querySelector(":scope > .story-more")?.remove();
    list.append(fragment);
    element.storyShown = end;
    if (end < indexes.length) {
      const more = Object.assign(document.createElement("button"), {
        type: "button", className: "story-more", textContent: `Show ${indexes.length - end} more` });
      more.addEventListener("click", () => this.showMore(element, which));
      list.append(more);
    }
  }

  line(index) {
    const event = JSON.parse(this.rawOf(index));
    const line = document.createElement("div");
    line.className = `line t-${category(event.type)}`;
    line.tabIndex = 0;
    line.dataset.index = index;
    line.textContent = isRecord(event.type) ? shownLine(event)
      : `#${String(event.seq).padEnd(6)} ${event.service.padEnd(9)} ${told(event.type, event.data)}`.replace(/\s+$/, "");
    return line;
  }

  onClick(e) {
    const line = e.target.closest(".line");
    if (line && window.getSelection().isCollapsed) this.toggleDetail(line);
  }

  onKey(e) {
    const line = e.target.closest?.(".line");
    if (line && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); this.toggleDetail(line); }
  }

  // A line opens to its full event, and an LLM call to a link to its whole prompt and reply.
  toggleDetail(line) {
    if (line.nextElementSibling?.classList.contains("detail")) { line.nextElementSibling.remove(); return; }
    const event = JSON.parse(this.rawOf(Number(line.dataset.index)));
    const detail = Object.assign(document.createElement("div"), { className: "detail" });
    if (event.type === "llm.call" && event.job_id) {
      detail.append(Object.assign(document.createElement("a"), { className: "call-link",
        href: `/jobs/${encodeURIComponent(event.job_id)}/llm-calls/${event.seq}`,
        textContent: "Open the full prompt and reply" }));
    }
    detail.append(Object.assign(document.createElement("pre"), { textContent: JSON.stringify(event, null, 2) }));
    line.after(detail);
  }
}

function recordsTitle(node) {
  return `Statements and row events (${node.records.length})`;
}
