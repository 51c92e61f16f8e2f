// One audit event as a readable line: the same essentials as the API's TXT download.

// The panel's filters: SQL, LLM, chunks (their commands and lifecycle), errors (and a failed job).
export function category(type) {
  if (type.startsWith("db.")) return "db";
  if (type.startsWith("llm.")) return "llm";
  if (type.startsWith("chunk.") || type.startsWith("job.chunk_")) return "chunk";
  if (type === "error.raised" || type === "error" || type === "job.failed") return "error";  // "error": logs before error.raised
  return "other";
}

// Values written as the server's Python writes them (True, None, ['stop']), so lines read alike.
function py(value) {
  if (value === true) return "True";
  if (value === false) return "False";
  if (value === null || value === undefined) return "None";
  if (Array.isArray(value)) return `[${value.map((v) => (typeof v === "string" ? `'${v}'` : py(v))).join(", ")}]`;
  return String(value);
}

function scalars(data) {
  return Object.entries(data ?? {})
    .filter(([, v]) => v === null || typeof v !== "object")
    .filter(([, v]) => py(v).length <= 120)
    .map(([k, v]) => `${k}=${py(v)}`)
    .join(" ");
}

function llmCall(a) {
  const at = (key) => py(a[key]);
  return `${at("longform.purpose")} chunk=${at("longform.chunk_index")} attempt=${at("longform.attempt")}` +
    ` model=${at("gen_ai.request.model")} in=${at("gen_ai.usage.input_tokens")} out=${at("gen_ai.usage.output_tokens")}` +
    ` ${at("longform.latency_ms")}ms finish=${at("gen_ai.response.finish_reasons")} kept=${at("longform.kept")}` +
    (a["error.type"] ? ` error=${a["error.type"]}` : "");
}

export function essentials(type, data) {
  if (type === "db.query") {
    const statements = data.statements ?? [];
    return `${statements.length} statement(s): ${(statements[0]?.sql ?? "").slice(0, 120)}`;
  }
  if (type === "llm.call") return llmCall(data.attributes ?? {});
  if (type === "chunk.processed") {
    return `chunk ${data.chunk_index}: ${data.output_words}/${data.budget_words ?? data.target_words} words, ` +
      (data.passed ? "pass" : "fail") + (data.reason ? ` (${data.reason})` : "");
  }
  return scalars(data);
}

function clock(ts) {
  const time = new Date(ts);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}.${pad(time.getMilliseconds(), 3)}`;
}

// What the panel shows: local time, seq, service, type, essentials (one line, collapsed whitespace),
// as the line's columns (a phone hides the time and the service, site.css).
export function shownParts(event) {
  const essence = essentials(event.type, event.data ?? {}).replace(/\s+/g, " ");
  return [["time", `${clock(event.ts)}  `], ["seq", `#${String(event.seq).padEnd(6)} `],
    ["service", `${event.service.padEnd(9)} `], ["type", `${event.type.padEnd(20)} `], ["what", essence]];
}

export function shownLine(event) {
  return shownParts(event).map(([, text]) => text).join("");
}

// The type in a line of the TXT download: "<ts>  #<seq> <service> <type> <essentials>".
export const typeOfTextLine = (line) => line.split(/\s+/)[3] ?? "";
