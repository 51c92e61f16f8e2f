// The progress of one job from GET /v1/jobs/{id}: words and chunks against the plan, the current
// section, the time it has taken and (from the rate so far) the time left, the tokens used and
// their cost where the server knows the model's prices. The job is read again when an event that
// changes these arrives, at most once a second; the clock ticks here between reads.

import { ENDED, api, jobUrl, number } from "./api.js";
import { throttled } from "./throttle.js";

const CHANGES_PROGRESS = new Set(["job.requested", "job.planned", "chunk.write", "llm.call", "chunk.processed", "document.assemble",
  "document.assembled", "job.extend", "job.extended", "job.completed", "job.failed", "job.resumed",
  "job.cancel_requested", "job.cancelled", "job.approved", "passage.noted", "job.plan_proposed", "job.plan_edited"]);

export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (h ? `${h} h ` : "") + (h || m ? `${m} min ` : "") + `${sec} s`;
}

// From the rate since writing began; none before the first words, or once the job has ended.
export function timeLeft(job, now = Date.now()) {
  if (!job || ENDED.has(job.status) || !job.started_at || !job.words) return null;
  const spent = now - Date.parse(job.started_at);
  const left = Math.max(job.target_words - job.words, 0);
  return spent > 0 ? (left * spent) / job.words : null;
}

// A queued job's place moves as its owner's other jobs end: events of their logs, not this one's.
const QUEUED_READ_EVERY_S = 5;

export function statusText(job) {
  if (job.status === "queued" && job.queue_place) return `queued: number ${number(job.queue_place)} in your queue`;
  return job.status + (job.error ? `: ${job.error}` : "");
}

export function cost(job) {
  if (job?.cost_usd === null || job?.cost_usd === undefined) return "unknown";
  return `$${job.cost_usd < 1 ? job.cost_usd.toFixed(4) : job.cost_usd.toFixed(2)} (estimated)`;
}

export class Progress {
  constructor(root) {
    this.root = root;
    this.get = (sel) => root.querySelector(sel);
    this.refresh = throttled(() => this.read(), 1000);
    this.listeners = [];
  }

  // fn(job) after each read: the page shows its buttons and document by the same numbers.
  onRead(fn) { this.listeners.push(fn); }

  track(jobId, job = null) {
    this.stop();
    Object.assign(this, { jobId, job });
    this.render();
    if (!job) this.refresh();
    this.clock = setInterval(() => this.renderClock(), 1000);
  }

  stop() {
    this.refresh.cancel();
    clearInterval(this.clock);
    this.jobId = null;
  }

  async read() {
    const jobId = this.jobId;
    try {
      const job = await api("GET", jobUrl(jobId));
      if (jobId !== this.jobId) return;
      this.job = job;
      this.render();
      for (const fn of this.listeners) fn(job);
    } catch (error) {
      if (jobId === this.jobId && error.status === 404) this.get(".fact-status").textContent = "not found (deleted?)";
    }
  }

  // Called for every event of the job, in seq order.
  onEvent(event) {
    if (CHANGES_PROGRESS.has(event.type)) this.refresh();
  }

  render() {
    const job = this.job;
    const words = this.get(".words-bar"), chunks = this.get(".chunks-bar");
    words.max = Math.max(job?.target_words ?? 1, 1);
    words.value = Math.min(job?.words ?? 0, words.max);
    chunks.max = Math.max(job?.chunks_total ?? 1, 1);
    chunks.value = Math.min(job?.chunks_done ?? 0, chunks.max);
    this.get(".words-text").textContent = job ? `${number(job.words)} / ${number(job.target_words)}` : "";
    this.get(".chunks-text").textContent = job ? `${number(job.chunks_done)} / ${job.chunks_total ? number(job.chunks_total) : "?"}` : "";
    this.get(".fact-status").textContent = job ? statusText(job) : "–";
    this.get(".fact-section").textContent = job?.section ?? "–";
    const tokens = job ? job.tokens_in + job.tokens_out : 0;
    this.get(".fact-tokens").textContent = tokens
      ? `${number(tokens)} (in ${number(job.tokens_in)}, out ${number(job.tokens_out)})` : "–";
    this.get(".fact-cost").textContent = job ? cost(job) : "–";
    this.renderClock();
  }

  renderClock() {
    const job = this.job;
    if (!job) { this.get(".fact-elapsed").textContent = this.get(".fact-left").textContent = "–"; return; }
    this.ticks = (this.ticks ?? 0) + 1;
    if (job.status === "queued" && this.ticks % QUEUED_READ_EVERY_S === 0) this.refresh();
    const end = job.ended_at ? Date.parse(job.ended_at) : Date.now();
    this.get(".fact-elapsed").textContent = duration(end - Date.parse(job.created_at));
    const left = timeLeft(job);
    this.get(".fact-left").textContent = left === null ? "–" : `about ${duration(left)}`;
  }
}
