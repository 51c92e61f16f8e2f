// The Audit Panel: every event of a job from the websocket, which replays from the table and then
// follows live. After a dropped connection it reconnects with the last seq it holds, so no line is
// lost or repeated. It stays open, after the job has ended too, until it is closed.

import { jobUrl, liveUrl, number } from "./api.js";
import { category, typeOfTextLine } from "./lines.js";
import { LogView } from "./logview.js";
import { Progress } from "./progress.js";
import { StoryView } from "./story.js";

const ENDED = { "job.completed": "completed", "job.failed": "failed", "job.cancelled": "cancelled" };
const REFUSED = { 4401: "Signed out: sign in again to follow this log.", 4404: "This job does not exist (any more)." };

export class AuditPanel {
  constructor(root) {
    this.root = root;
    const get = (sel) => root.querySelector(sel);
    this.status = get(".panel-status");
    this.view = new LogView(get(".log"), get(".jump"), get(".line-count"));
    this.story = new StoryView(get(".story"), (index) => this.view.raw[index]);
    this.progress = new Progress(root);
    this.jobId = null;
    get(".dismiss").addEventListener("click", () => this.close());
    get(".copy-all").addEventListener("click", () => this.copyAll());
    get(".copy-selection").addEventListener("click", () => this.copySelection());
    for (const radio of root.querySelectorAll("input[name=audit-filter]")) {
      radio.addEventListener("change", () => this.view.setFilter(radio.value));
    }
    for (const radio of root.querySelectorAll("input[name=audit-view]")) {
      radio.addEventListener("change", () => this.show(radio.value));
    }
    root.addEventListener("keydown", (e) => { if (e.key === "Escape" && !e.defaultPrevented) this.close(); });
  }

  open(jobId, title = "") {
    if (this.jobId === jobId && !this.root.hidden) { this.shown().focus(); return; }
    this.close(false);
    Object.assign(this, { jobId, lastSeq: 0, attempts: 0, ended: null });
    this.view.reset();
    this.story.reset();
    this.root.querySelector(".panel-job").textContent = title ? `· ${title}` : "";
    for (const [cls, format] of [[".download-json", "json"], [".download-txt", "txt"]]) {
      this.root.querySelector(cls).href = `${jobUrl(jobId)}/audit?format=${format}`;
    }
    this.root.hidden = false;
    document.body.classList.add("panel-open");
    this.progress.track(jobId);
    this.connect();
    this.shown().focus();
  }

  close(restoreFocus = true) {
    if (this.jobId === null) return;
    this.jobId = null;
    this.socket?.close(1000, "panel closed");
    this.socket = null;
    clearTimeout(this.retry);
    this.view.reset();
    this.progress.stop();
    this.root.hidden = true;
    document.body.classList.remove("panel-open");
    if (restoreFocus) document.querySelector("#main")?.focus();
  }

  connect() {
    const socket = new WebSocket(liveUrl(this.jobId, this.lastSeq));
    this.socket = socket;
    this.say(this.lastSeq ? `Reconnecting after line #${this.lastSeq}…` : "Connecting…");
    socket.onopen = () => { this.attempts = 0; this.say(this.ended ? this.endedText() : "Live: lines arrive as they happen."); };
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (event) => { if (socket === this.socket) this.dropped(event); };
  }

  dropped(event) {
    if (REFUSED[event.code]) { this.say(REFUSED[event.code]); return; }
    const wait = Math.min(5000, 500 * 2 ** this.attempts++);
    this.say(`Connection lost; reconnecting in ${Math.ceil(wait / 1000)} s, from line #${this.lastSeq}.`);
    this.retry = setTimeout(() => { if (this.jobId) this.connect(); }, wait);
  }

  receive(text) {
    const event = JSON.parse(text);
    if (event.seq <= this.lastSeq) return;  // the server never repeats one; a client must not either
    this.lastSeq = event.seq;
    this.view.add(event, text);
    this.story.add(event, event.index);
    this.progress.onEvent(event);
    if (ENDED[event.type]) { this.ended = ENDED[event.type]; this.say(this.endedText()); }
  }

  // The story of the job, or the flat log with its filters; both hold every event, whatever is shown.
  show(which) {
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

  endedText() {
    return `Job ${this.ended}. The log stays here until you close it.`;
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
