// What one event says in the story view: a sentence about the writing ("Check: 632 / 600 words,
// pass") where the flat log shows its fields; events without one keep the flat log's essentials.

import { number } from "./api.js";
import { essentials } from "./lines.js";

const n = (value) => (typeof value === "number" ? number(value) : "?");

function llmCall(a) {
  const purpose = a["longform.purpose"] ?? "LLM";
  const outcome = a["error.type"] ? `failed (${a["error.type"]})` : a["longform.kept"] ? "kept" : "discarded";
  const finish = a["gen_ai.response.finish_reasons"];
  return [`${purpose[0].toUpperCase()}${purpose.slice(1)} call, attempt ${a["longform.attempt"] ?? "?"}: ` +
    `${n(a["longform.output_words"])} words, ${outcome}`, `${n(a["longform.latency_ms"])} ms`,
    finish ? `finish ${finish}` : "", a["gen_ai.request.model"] ?? ""].filter(Boolean).join(" · ");
}

const fallback = (d) => (d.fallback ? ` (fallback: ${d.fallback})` : "");

const TOLD = {
  "job.requested": (d) => `Requested: “${d.title}”, ${n(d.target_words)} words (${d.mode})`,
  "job.resumed": (d) => `Resumed${d.reason ? ` (${d.reason.replace("_", " ")})` : ""}`,
  "llm.call": (d) => llmCall(d.attributes ?? {}),
  "chunk.write": (d) => `Dispatched: ${d.section_title}, budget ${n(d.budget_words)} words`,
  "job.chunk_started": (d) => `Started: budget ${n(d.budget_words)} words` +
    (d.attempts_before ? `, ${n(d.attempts_before)} calls made before` : ""),
  "job.chunk_continued": (d) => `Short at ${n(d.words_so_far)} of ${n(d.budget_words)} words: continued (round ${d.round})`,
  "chunk.processed": (d) => `Check: ${n(d.output_words)} / ${n(d.budget_words)} words, ${d.passed ? "pass" : "fail"}` +
    (d.reason ? ` (${d.reason})` : "") + ` after ${n(d.attempts)} attempt${d.attempts === 1 ? "" : "s"}`,
  "chunk.summarize": () => "Summary asked",
  "chunk.summarized": (d) => `Summary by ${d.made_by}: ${n(d.summary_words)} words, ` +
    `${n(d.ledger_entries)} ledger entries${fallback(d)}`,
  "job.chunk_stopped": () => "Stopped by the cancel",
  "job.planned": (d) => `Planned: ${n(d.sections)} sections, ${n(d.chunks_total)} chunks, ` +
    `${n(d.planned_words)} words (outline by ${d.outline_source || "?"})${fallback(d)}`,
  "passage.noted": (d) => `Noted: ${n(d.notes_words)} words of notes by ${d.made_by}${fallback(d)}`,
  "document.assembled": (d) => `Assembled: ${n(d.words)} of ${n(d.target_words)} words, round ${d.round}`,
  "job.extended": (d) => `Extended: ${n(d.chunks_added)} chunks, ${n(d.words_added)} words, round ${d.round}`,
  "job.completed": (d) => `Completed: ${n(d.words)} of ${n(d.target_words)} words`,
  "job.failed": (d) => `Failed: ${d.reason}`,
  "error.raised": (d) => `Error: ${d.message}`,
  "job.redelivered": (d) => `Redelivered: ${d.message_type}, delivery ${d.delivery}`,
};

export function told(type, data) {
  const sentence = TOLD[type];
  return sentence ? sentence(data ?? {}) : `${type} ${essentials(type, data ?? {})}`.trim();
}
