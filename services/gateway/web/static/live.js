// A job's live log: one websocket that replays the job's events from the table and then follows
// them as they happen. After a dropped connection it reconnects with the last seq it holds, so no
// event is lost or repeated. Whoever listens (the Audit Panel, the job page's progress, outline and
// document) gets each event once, in seq order.

import { liveUrl } from "./api.js";

const ENDED_BY = { "job.completed": "completed", "job.failed": "failed", "job.cancelled": "cancelled" };
const REFUSED = { 4401: "Signed out: sign in again to follow this log.", 4404: "This job does not exist (any more)." };

export class LiveLog {
  constructor(jobId) {
    Object.assign(this, { jobId, lastSeq: 0, attempts: 0, ended: null, socket: null, stopped: false });
    this.listeners = [];
    this.sayers = [];
  }

  // fn(event, text): text is the event as it came, for whoever keeps it whole.
  listen(fn) { this.listeners.push(fn); }

  // fn(sentence): how the connection stands, for people.
  onStatus(fn) { this.sayers.push(fn); }

  start() {
    const socket = new WebSocket(liveUrl(this.jobId, this.lastSeq));
    this.socket = socket;
    this.say(this.lastSeq ? `Reconnecting after line #${this.lastSeq}…` : "Connecting…");
    socket.onopen = () => { this.attempts = 0; this.say(this.ended ? this.endedText() : "Live: lines arrive as they happen."); };
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (event) => { if (socket === this.socket) this.dropped(event); };
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retry);
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "no longer followed");
  }

  dropped(event) {
    if (REFUSED[event.code]) { this.say(REFUSED[event.code]); return; }
    // 4408: this page fell behind the live lines; it catches up from the table at once.
    const wait = event.code === 4408 ? 0 : Math.min(5000, 500 * 2 ** this.attempts++);
    this.say(`Connection lost; reconnecting in ${Math.ceil(wait / 1000)} s, from line #${this.lastSeq}.`);
    this.retry = setTimeout(() => { if (!this.stopped) this.start(); }, wait);
  }

  receive(text) {
    const event = JSON.parse(text);
    if (event.seq <= this.lastSeq) return;  // the server never repeats one; a client must not either
    this.lastSeq = event.seq;
    for (const fn of this.listeners) fn(event, text);
    if (ENDED_BY[event.type]) { this.ended = ENDED_BY[event.type]; this.say(this.endedText()); }
  }

  endedText() {
    return `Job ${this.ended}. The log stays here until you close it.`;
  }

  say(text) {
    for (const fn of this.sayers) fn(text);
  }
}
