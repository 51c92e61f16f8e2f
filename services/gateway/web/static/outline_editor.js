// The outline of a job awaiting review, editable (issue 17, part 3): rename sections and parts,
// change briefs and budgets, add, remove, move up and down; Save sends the tree with
// PUT /v1/jobs/{id}/plan (the planner rechunks it), Approve starts writing. Refusals are shown in
// words (the gateway names the section). Every control is a native button or field, so the
// keyboard reaches all of it.

import { api, jobUrl } from "./api.js";

const field = (tag, props) => Object.assign(document.createElement(tag), props);

export class OutlineEditor {
  constructor(root, jobId, reread) {
    Object.assign(this, { root, jobId, reread });
    this.form = root.querySelector(".outline-editor");
    this.list = this.form.querySelector(".editor-tree");
    this.status = this.form.querySelector(".editor-status");
    this.form.querySelector(".add-section").addEventListener("click", () => this.add(this.list));
    this.form.querySelector(".save-plan").addEventListener("click", () => this.save());
    this.form.querySelector(".approve-plan").addEventListener("click", () => this.approve());
    // Edits not yet saved: a plan read again meanwhile (the live log's replay, another event)
    // must not wipe what the writer typed.
    this.dirty = false;
    this.form.addEventListener("input", () => { this.dirty = true; });
    this.list.addEventListener("click", (event) => { if (event.target.closest("button")) this.dirty = true; });
    this.form.querySelector(".add-section").addEventListener("click", () => { this.dirty = true; });
  }

  show(plan) {
    const sections = JSON.stringify(plan.sections);
    if (!this.form.hidden && sections === this.shown) return;
    this.shown = sections;
    if (!this.form.hidden && this.dirty) {
      this.say("The plan was changed elsewhere meanwhile: Save keeps your version, a reload shows the other.", false);
      return;
    }
    this.list.replaceChildren(...plan.sections.map((node) => this.item(node)));
    this.form.hidden = false;
    if (this.status.textContent.startsWith("Saved")) {  // read again after the planner's job.plan_edited
      this.say(`Saved: the plan now has ${plan.planned_words.toLocaleString("en")} words planned.`, false);
    }
  }

  hide() { this.form.hidden = true; }

  // Save and Approve only once the job's own status says it awaits review: the plan can say so a
  // moment before the job's status does, and the gateway answers by the job's status.
  ready(open) {
    for (const button of this.form.querySelectorAll(".save-plan, .approve-plan")) button.disabled = !open;
  }

  item(node) {
    const li = field("li", { className: "editor-node" });
    const part = node.sections !== undefined;
    if (node.index !== undefined) li.dataset.index = node.index;
    if (part) li.dataset.part = "true";
    const kind = part ? "Part" : "Section";
    const title = field("input", { type: "text", className: "edit-title", value: node.title, maxLength: 300 });
    title.setAttribute("aria-label", `${kind} title`);
    li.append(title);
    if (!part) {
      const budget = field("input", { type: "number", className: "edit-budget", min: 1, step: 1,
        value: node.budget_words });
      budget.setAttribute("aria-label", `Budget in words of “${node.title}”`);
      const brief = field("textarea", { className: "edit-brief", rows: 2, value: node.brief ?? "" });
      brief.setAttribute("aria-label", `Brief of “${node.title}”`);
      li.append(budget, brief);
    }
    li.append(this.buttons(li, node.title));
    if (part) li.append(field("ul", {}));
    if (part) node.sections.forEach((child) => li.querySelector(":scope > ul").append(this.item(child)));
    return li;
  }

  buttons(li, title) {
    const row = field("span", { className: "editor-buttons" });
    for (const [label, act] of [["Up", () => li.previousElementSibling?.before(li)],
      ["Down", () => li.nextElementSibling?.after(li)], ["Remove", () => li.remove()]]) {
      const button = field("button", { type: "button", textContent: label });
      button.setAttribute("aria-label", `${label}: “${title}”`);
      button.addEventListener("click", () => { act(); button.isConnected && button.focus(); });
      row.append(button);
    }
    return row;
  }

  add(list) {
    const li = this.item({ title: "New section", brief: "", budget_words: 500 });
    list.append(li);
    li.querySelector(".edit-title").select();
    li.querySelector(".edit-title").focus();
  }

  // The tree as PUT takes it, in the order shown.
  tree(list = this.list) {
    return [...list.children].map((li) => {
      const title = li.querySelector(":scope > .edit-title").value;
      if (li.dataset.part) return { title, sections: this.tree(li.querySelector(":scope > ul")) };
      const node = { title, brief: li.querySelector(":scope > .edit-brief").value,
        budget_words: Number.parseInt(li.querySelector(":scope > .edit-budget").value, 10) };
      if (li.dataset.index !== undefined) node.index = Number(li.dataset.index);
      return node;
    });
  }

  async save() {
    if (await this.send("PUT", `${jobUrl(this.jobId)}/plan`, { sections: this.tree() },
      "Saved: the planner is rechunking the plan…")) {
      this.dirty = false;
      this.reread();  // and again on its job.plan_edited, whichever comes first shows the new plan
    }
  }

  async approve() {
    await this.send("POST", `${jobUrl(this.jobId)}/approve`, undefined, "Approved: writing starts…");
  }

  async send(method, path, body, done) {
    this.say("Sending…", false);
    try {
      await api(method, path, body);
      this.say(done, false);
      return true;
    } catch (error) {
      const words = error.fieldErrors ? error.fieldErrors().map(([names, msg]) =>
        (names.length ? `${names[0]}: ` : "") + msg).join(" ") : error.message;
      this.say(`Not saved: ${words}`, true);
      return false;
    }
  }

  say(text, refused) {
    this.status.textContent = text;
    this.status.classList.toggle("error", refused);
  }
}
