// The Audit Panel: every event of a job, from the job's live log (live.js). It stays open, after
// the job has ended too, until it is closed. Opened from a list it follows the job itself; on the
// job's own page it shows the page's live log, and closing it only hides it.

import { jobUrl, number } from "./api.js";
import { category, typeOfTextLine } from "./lines.js";
import { LiveLog } from "./live.js";
import { LogView } from "./logview.js";
import { Progress } from "./progress.js";
import { StoryView } from "./story.js";

export class AuditPanel {
  constructor(root) {
    this.root = root;
    const get = (sel) => root.querySelector(sel);
    this.status = get(".panel-status");
    this.view = new LogView(get(".log"), get(".jump"), get(".line-count"));
    this.story = new StoryView(get(".story"), (index) => this.view.raw[index]);
    const bars = get(".progress");
    this.progress = bars ? new Progress(bars) : null;  // the job page shows its progress itself
    this.jobId = null;
    this.feed = null;
    get(".dismiss").addEventListener("click", () => this.close());
    get(".copy-all").addEventListener("click", () => this.copyAll());
    get(".copy-selection").addEventListener("click", () => this.copySelection());
    for (const radio of root.querySelectorAll("input[name=audit-filter]")) {
      radio.addEventListener("change", () => this.view.setFilter(radio.value));
    }
    for (const radio of root.querySelectorAll("input[name=audit-view]")) {
      radio.addEventListener("change", () => this.showView(radio.value));
    }
    root.addEventListener("keydown", (e) => { if (e.key === "Escape" && !e.defaultPrevented) this.close(); });
  }

  // Follows the job with a live log of its own, closed with the panel.
  open(jobId, title = "") {
    if (this.jobId === jobId && !this.root.hidden) { this.shown().focus(); return; }
    this.close(false);
    const feed = new LiveLog(jobId);
    this.show(feed, title, true);
    this.progress?.track(jobId);
    feed.start();
  }

  // Shows a live log someone else keeps (the job page's): closing the panel only hides it.
  attach(feed, title = "", visible = true) {
    this.show(feed, title, false);
    if (!visible) this.hide(false);
  }

  show(feed, title, owned) {
    Object.assign(this, { jobId: feed.jobId, feed, owned });
    this.view.reset();
    this.story.reset();
    this.root.querySelector(".panel-job").textContent = title ? `· ${title}` : "";
    for (const [cls, format] of [[".download-json", "json"], [".download-txt", "txt"]]) {
      this.root.querySelector(cls).href = `${jobUrl(feed.jobId)}/audit?format=${format}`;
    }
    feed.listen((event, text) => {
      if (feed !== this.feed) return;
      this.view.add(event, text);
      this.story.add(event, event.index);
      this.progress?.onEvent(event);
    });
    feed.onStatus((text) => { if (feed === this.feed) this.say(text); });
    this.reveal();
  }

  reveal() {
    this.root.hidden = false;
    document.body.classList.add("panel-open");
    this.view.follow(true);
    this.shown().focus();
  }

  hide(restoreFocus = true) {
    this.root.hidden = true;
    document.body.classList.remove("panel-open");
    if (restoreFocus) document.querySelector("#main")?.focus();
  }

  close(restoreFocus = true) {
    if (this.jobId === null) return;
    if (!this.owned) { this.hide(restoreFocus); return; }
    this.feed.stop();
    Object.assign(this, { jobId: null, feed: null });
    this.view.reset();
    this.story.reset();
    this.progress?.stop();
    this.hide(restoreFocus);
  }

  // The story of the job, or the flat log with its filters; both hold every event, whatever is shown.
  showView(which) {
    const flat = which === "flat";
    const get = (sel) => this.root.querySelector(sel);
    get(".story").hidden = flat;
    get(".log").hidden = !flat;
    get(".filters").hidden = !flat;
    if (flat && this.view.following) this.view.toBottom();
  }

  shown() {
    const story = this.root.querySelector(".story");
    return story.hidden ? this.view.log : story;
  }

  // Every line of the log as the TXT download has it (however many the page holds), in the filter shown.
  async copyAll() {
    this.say("Copying…");
    const response = await fetch(`${jobUrl(this.jobId)}/audit?format=txt`, { credentials: "same-origin" });
    if (!response.ok) { this.say(`Could not copy: the log could not be read (${response.status}).`); return; }
    const filter = this.view.log.dataset.filter;
    let lines = (await response.text()).split("\n").filter(Boolean);
    if (filter) lines = lines.filter((line) => category(typeOfTextLine(line)) === filter);
    await copy(lines.join("\n") + "\n");
    this.say(`Copied ${number(lines.length)} lines.`);
  }

  async copySelection() {
    const text = window.getSelection().toString();
    if (!text) { this.say("Select lines in the log first (drag across them), then copy."); return; }
    await copy(text);
    this.say("Copied the selection.");
  }

  say(text) {
    if (this.status.textContent !== text) this.status.textContent = text;
  }
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {  // no clipboard API outside a secure context: the old way
    const area = Object.assign(document.createElement("textarea"), { value: text });
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
}

let panel = null;

export function auditPanel() {
  panel ??= new AuditPanel(document.querySelector("#audit-panel"));
  return panel;
}
