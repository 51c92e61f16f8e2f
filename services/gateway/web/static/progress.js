// The progress of one job from GET /v1/jobs/{id}: words and chunks against the plan, the current
// section, the tokens used, and the elapsed time (ticking here between reads). The job is read again
// when an event that changes these arrives (each read is itself a line of the job's log, so the
// page does not poll on a timer).

import { api, jobUrl, number } from "./api.js";

const CHANGES_PROGRESS = new Set(["job.planned", "chunk.write", "llm.call", "chunk.processed", "document.assemble",
  "document.assembled", "job.extend", "job.extended", "job.completed", "job.failed", "job.resumed",
  "job.cancel_requested", "job.cancelled"]);
const AT_MOST_EVERY_MS = 1000;

function elapsed(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (h ? `${h} h ` : "") + (h || m ? `${m} min ` : "") + `${sec} s`;
}

export class Progress {
  constructor(root) {
    this.root = root;
    this.get = (sel) => root.querySelector(sel);
    this.timer = null;
  }

  track(jobId) {
    this.stop();
    this.jobId = jobId;
    this.job = null;
    this.render();
    this.refresh();
    this.clock = setInterval(() => this.renderElapsed(), 1000);
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    clearInterval(this.clock);
    this.jobId = null;
  }

  // One read at a time, and at most one a second however fast the events come.
  refresh() {
    if (this.timer) { this.again = true; return; }
    this.again = false;
    this.timer = setTimeout(() => { this.timer = null; if (this.again) this.refresh(); }, AT_MOST_EVERY_MS);
    this.read();
  }

  async read() {
    const jobId = this.jobId;
    try {
      const job = await api("GET", jobUrl(jobId));
      if (jobId !== this.jobId) return;
      this.job = job;
      this.render();
    } catch (error) {
      if (jobId === this.jobId && error.status === 404) this.get(".fact-status").textContent = "not found (deleted?)";
    }
  }

  // Called by the panel for every event, in seq order.
  onEvent(event) {
    if (CHANGES_PROGRESS.has(event.type)) this.refresh();
  }

  render() {
    const job = this.job;
    const words = this.get("#words-bar"), chunks = this.get("#chunks-bar");
    words.max = Math.max(job?.target_words ?? 1, 1);
    words.value = Math.min(job?.words ?? 0, words.max);
    chunks.max = Math.max(job?.chunks_total ?? 1, 1);
    chunks.value = Math.min(job?.chunks_done ?? 0, chunks.max);
    this.get(".words-text").textContent = job ? `${number(job.words)} / ${number(job.target_words)}` : "";
    this.get(".chunks-text").textContent = job ? `${number(job.chunks_done)} / ${job.chunks_total ? number(job.chunks_total) : "?"}` : "";
    this.get(".fact-status").textContent = job ? job.status + (job.error ? `: ${job.error}` : "") : "–";
    this.get(".fact-section").textContent = job?.section ?? "–";
    const tokens = job ? job.tokens_in + job.tokens_out : 0;
    this.get(".fact-tokens").textContent = tokens
      ? `${number(tokens)} (in ${number(job.tokens_in)}, out ${number(job.tokens_out)})` : "–";
    this.renderElapsed();
  }

  renderElapsed() {
    const job = this.job;
    if (!job) { this.get(".fact-elapsed").textContent = "–"; return; }
    const end = job.ended_at ? Date.parse(job.ended_at) : Date.now();
    this.get(".fact-elapsed").textContent = elapsed(end - Date.parse(job.created_at));
  }
}
