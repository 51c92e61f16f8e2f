// The story of a job, folded from its log one event at a time (seq order), from each event's step
// (`plan`, `chunk:12`, `summary:12`, `passage:5`, `assemble`, ...): the plan's sections, under
// each its chunks, and the steps that are not chunks in the order they began. A node keeps the
// positions of its events in the log, not the events, so a long job's story stays small.

import { number } from "./api.js";
import { told } from "./storylines.js";

const RECORDS = new Set(["db.query", "db.row_inserted", "db.row_updated"]);
const BOOKKEEPING = new Set(["relay", "bookkeeping"]);
const STEP_TITLES = {
  request: "Request", plan: "Plan", review: "Review of the plan", assemble: "Assembly", extend: "Extension",
  cancel: "Cancel", resume: "Resume", delete: "Delete", lifecycle: "The job's end", retention: "Retention",
  view: "Reads", account: "Account", job: "Other events", relay: "Outbox relay (bookkeeping)", bookkeeping: "Audit service (bookkeeping)",
};

// The step of an event; events stored before steps were stamped go to their chunk, else the job's.
export function stepOf(event) {
  if (event.step) return event.step;
  const data = event.data ?? {};
  const chunk = data.chunk_index ?? data.attributes?.["longform.chunk_index"];
  return chunk === undefined || chunk === null ? "job" : `chunk:${chunk}`;
}

export const isRecord = (type) => RECORDS.has(type);

class Node {
  constructor(key, kind) {
    Object.assign(this, { key, kind, lines: [], records: [], facts: {}, parent: null });
  }

  add(index, type) {
    (isRecord(type) ? this.records : this.lines).push(index);
  }
}

export class StoryModel {
  constructor() {
    this.nodes = new Map();  // "section:3", "chunk:12", "plan", ... -> Node
    this.created = [];  // nodes made since the view last took them, in the order made
    this.changed = new Set();  // nodes whose lines or facts changed since the view last looked
  }

  // Folds one event (its position in the log: `index`) into the story.
  add(event, index) {
    const step = stepOf(event);
    const [kind, number] = step.split(":");
    const node = (kind === "chunk" || kind === "summary") ? this.chunk(Number(number)) : this.step(step);
    if (event.type === "chunk.write") {  // the command goes to the chunk it starts; its statements stay with the step
      this.place(event.data);
      this.chunk(event.data.chunk_index).add(index, event.type);
      return;
    }
    node.add(index, event.type);
    noteFacts(node, event);
    this.touch(node);
  }

  step(key) {
    return this.nodes.get(key) ?? this.made(new Node(key, BOOKKEEPING.has(key) ? "bookkeeping" : "step"));
  }

  chunk(index) {
    return this.nodes.get(`chunk:${index}`) ?? this.made(Object.assign(new Node(`chunk:${index}`, "chunk"), { index }));
  }

  // A chunk.write names the chunk's section: the section is made when its first chunk is dispatched.
  place({ chunk_index, section_index, section_title, budget_words }) {
    const chunk = this.chunk(chunk_index);
    chunk.facts.budget = budget_words;
    this.touch(chunk);
    if (chunk.parent) return;
    const key = `section:${section_index}`;
    const section = this.nodes.get(key) ?? this.made(Object.assign(new Node(key, "section"),
      { index: section_index, title: section_title, chunks: [] }));
    section.chunks.push(chunk);
    chunk.parent = section;
    this.created.push(chunk);  // again: the view moves it under its section
    this.touch(chunk);
  }

  made(node) {
    this.nodes.set(node.key, node);
    this.created.push(node);
    return node;
  }

  touch(node) {
    this.changed.add(node);
    if (node.parent) this.changed.add(node.parent);
  }
}

// What a chunk's or step's summary line says, kept up as its events arrive.
function noteFacts(node, { type, data = {} }) {
  const facts = node.facts;
  if (type === "llm.call") {
    const a = data.attributes ?? {};
    const purpose = a["longform.purpose"] ?? "call";
    facts.calls = (facts.calls ?? 0) + 1;
    facts[purpose] = (facts[purpose] ?? 0) + 1;
    if (a["longform.kept"] === false) facts.discarded = (facts.discarded ?? 0) + 1;
    if (a["error.type"]) facts.errors = (facts.errors ?? 0) + 1;
  } else if (type === "job.chunk_started") {
    facts.budget = data.budget_words;
    facts.state ??= "writing";
  } else if (type === "job.chunk_continued") {
    facts.continued = data.round;
  } else if (type === "chunk.processed") {
    Object.assign(facts, { words: data.output_words, budget: data.budget_words ?? facts.budget,
      passed: data.passed, reason: data.reason, state: "written" });
  } else if (type === "chunk.summarized" && data.fallback) {
    facts.fallbacks = [...(facts.fallbacks ?? []), `summary by ${data.made_by}: ${data.fallback}`];
  } else if (type === "job.chunk_stopped") {
    facts.state = "stopped";
  } else if (type === "error.raised") {
    facts.errors = (facts.errors ?? 0) + 1;
  } else if (type === "job.redelivered") {
    facts.redelivered = (facts.redelivered ?? 0) + 1;
  }
  if (data.fallback && type !== "chunk.summarized") facts.fallbacks = [...(facts.fallbacks ?? []), data.fallback];
  if (!isRecord(type)) facts.last = told(type, data);
}

const plural = (n, one, many = `${one}s`) => `${number(n)} ${n === 1 ? one : many}`;

function problems(f) {
  return [
    f.discarded ? plural(f.discarded, "reply", "replies") + " discarded" : "",
    f.errors ? plural(f.errors, "error") : "",
    f.redelivered ? `redelivered ${plural(f.redelivered, "time")}` : "",
    f.fallbacks ? plural(f.fallbacks.length, "fallback") : "",
  ].filter(Boolean);
}

export function chunkSummary(node) {
  const f = node.facts;
  const words = f.words === undefined ? (f.state ?? "dispatched")
    : `${number(f.words)} / ${number(f.budget)} words, ${f.passed ? "pass" : "fail"}${f.reason ? ` (${f.reason})` : ""}`;
  const calls = f.write ? plural(f.write, "write call") + (f.write > 1 ? ` (${plural(f.write - 1, "retry", "retries")})` : "") : "";
  const summary = f.summarize ? plural(f.summarize, "summary call") : "";
  return [`Chunk ${node.index + 1}`, words, calls, f.continued ? `continued ${plural(f.continued, "time")}` : "",
    summary, ...problems(f)].filter(Boolean).join(" · ");
}

export function sectionSummary(node) {
  const done = node.chunks.filter((c) => c.facts.state === "written");
  const words = done.reduce((sum, c) => sum + (c.facts.words ?? 0), 0);
  const failed = done.filter((c) => c.facts.passed === false).length;
  return [`Section ${node.index + 1}: ${node.title}`, `${done.length} of ${plural(node.chunks.length, "chunk")} written`,
    `${number(words)} words`, failed ? `${failed} short` : ""].filter(Boolean).join(" · ");
}

export function stepSummary(node) {
  const [kind, n] = node.key.split(":");
  const title = kind === "passage" ? `Passage ${n}` : STEP_TITLES[kind] ?? node.key;
  const f = node.facts;
  const calls = f.calls ? plural(f.calls, "LLM call") : "";
  return [title, f.last ?? "", calls, plural(node.lines.length + node.records.length, "event"), ...problems(f)]
    .filter(Boolean).join(" · ");
}

export function summaryOf(node) {
  if (node.kind === "chunk") return chunkSummary(node);
  if (node.kind === "section") return sectionSummary(node);
  return stepSummary(node);
}
