// The lines of the Audit Panel. Lines are appended in batches once per animation frame, into
// blocks of BLOCK lines that the browser skips laying out while they are off screen (lines have
// one fixed height, so a skipped block's size is exact). The view follows the end until the reader
// scrolls back, and follows again at the end or on "Jump to live".

import { number } from "./api.js";
import { category, shownParts } from "./lines.js";

const BLOCK = 200;
const PER_FRAME = 2000;
const NEAR_BOTTOM_PX = 24;
const MOVES = { ArrowDown: "next", ArrowUp: "previous", Home: "first", End: "last" };

export class LogView {
  constructor(log, jump, count) {
    Object.assign(this, { log, jump, count });
    jump.addEventListener("click", () => { this.follow(true); log.focus(); });
    log.addEventListener("scroll", () => this.onScroll());
    // The reader's intent comes before the scroll it starts: a smooth scroll's first steps stay near
    // the bottom, and the next batch of lines must not pull the view back down.
    log.addEventListener("wheel", (e) => { if (e.deltaY < 0) this.follow(false, false); }, { passive: true });
    log.addEventListener("click", (e) => this.onClick(e));
    log.addEventListener("keydown", (e) => this.onKey(e));
  }

  reset() {
    cancelAnimationFrame(this.frame);
    Object.assign(this, { raw: [], pending: [], frame: null, block: null, following: true, lastTop: 0 });
    this.log.replaceChildren();
    this.jump.hidden = true;
    this.count.textContent = "";
  }

  // `text` is the event as it came, kept for its full view.
  add(event, text) {
    event.index = this.raw.push(text) - 1;
    this.pending.push(event);
    this.frame ??= requestAnimationFrame(() => this.render());
  }

  render() {
    this.frame = null;
    const batch = this.pending.splice(0, PER_FRAME);
    for (let start = 0; start < batch.length;) {
      if (!this.block || this.blockLines >= BLOCK) this.newBlock();
      const lines = batch.slice(start, start + BLOCK - this.blockLines);
      const fragment = document.createDocumentFragment();
      for (const event of lines) fragment.append(this.line(event));
      this.block.append(fragment);
      this.blockLines += lines.length;
      start += lines.length;
    }
    const coming = this.pending.length;
    this.count.textContent = `${number(this.raw.length - coming)} lines` + (coming ? ` (${number(coming)} more coming)` : "");
    if (this.following) this.toBottom();
    if (coming) this.frame = requestAnimationFrame(() => this.render());
  }

  newBlock() {
    this.block = document.createElement("div");
    this.block.className = "block";
    this.blockLines = 0;
    this.log.append(this.block);
  }

  line(event) {
    const line = document.createElement("div");
    line.className = `line t-${category(event.type)}`;
    line.dataset.index = event.index;
    for (const [column, text] of shownParts(event)) {
      const part = document.createElement("span");
      part.className = `c-${column}`;
      part.textContent = text;
      line.append(part);
    }
    return line;
  }

  toBottom() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  onScroll() {
    const { scrollTop, scrollHeight, clientHeight } = this.log;
    const down = scrollTop > this.lastTop;
    this.lastTop = scrollTop;
    if (scrollHeight - scrollTop - clientHeight > NEAR_BOTTOM_PX) this.follow(false, false);
    else if (down && !this.following) this.follow(true, false);  // the reader came back to the end
  }

  follow(on, scroll = true) {
    this.following = on;
    this.jump.hidden = on;
    if (on && scroll) this.toBottom();
  }

  setFilter(value) {
    if (value === "all") delete this.log.dataset.filter;
    else this.log.dataset.filter = value;
    if (this.following) this.toBottom();
  }

  onClick(e) {
    const line = e.target.closest(".line");
    if (!line || !window.getSelection().isCollapsed) return;  // a drag that selected text is a copy, not a click
    this.toggleDetail(line);
  }

  toggleDetail(line) {
    const open = line.nextElementSibling?.classList.contains("detail") ? line.nextElementSibling : null;
    if (open) { open.remove(); return; }
    const event = JSON.parse(this.raw[line.dataset.index]);
    const detail = document.createElement("div");
    detail.className = "detail";
    if (event.type === "llm.call" && event.job_id) {  // the event holds summaries: the call itself is a click away
      const link = document.createElement("a");
      link.className = "call-link";
      link.href = `/jobs/${encodeURIComponent(event.job_id)}/llm-calls/${event.seq}`;
      link.textContent = "Open the full prompt and reply";
      detail.append(link);
    }
    const text = document.createElement("pre");
    text.textContent = JSON.stringify(event, null, 2);
    detail.append(text);
    line.after(detail);
  }

  // Arrow keys, Home and End move between the lines shown; Enter or Space opens a line's full event.
  onKey(e) {
    const current = document.activeElement?.closest?.(".line");
    if ((e.key === "Enter" || e.key === " ") && current) { e.preventDefault(); this.toggleDetail(current); return; }
    if (["PageUp", "ArrowUp", "Home"].includes(e.key)) this.follow(false, false);
    if (!MOVES[e.key]) return;
    e.preventDefault();
    const target = this.lineFrom(current, MOVES[e.key]);
    if (!target) return;
    target.tabIndex = -1;
    target.focus();
    if (MOVES[e.key] === "last") this.follow(true);
  }

  lineFrom(current, where) {
    const all = [...this.log.querySelectorAll(".line")];
    const shown = (el) => el.offsetParent !== null;  // not hidden by the filter
    if (where === "first") return all.find(shown) ?? null;
    if (where === "last") return all.findLast(shown) ?? null;
    const step = where === "next" ? 1 : -1;
    let i = current ? all.indexOf(current) : (step > 0 ? -1 : all.length);
    do { i += step; } while (i >= 0 && i < all.length && !shown(all[i]));
    return all[i] ?? null;
  }
}
