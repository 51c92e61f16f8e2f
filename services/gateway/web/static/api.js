// The /v1 API as the page calls it: the session cookie signs in, and every call that changes
// something carries X-Longform-CSRF (a header no other site can make a browser send).

const CHANGES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export class ApiError extends Error {
  constructor(status, detail, sentence) {
    super(sentence || (typeof detail === "string" ? detail : `request refused (${status})`));
    this.status = status;
    this.detail = detail;
    this.sentence = sentence;  // the server's plain sentence for the first problem ("message")
  }

  // FastAPI's shape: a string, or [{loc: ["body", ..., field], msg, type}]: [names the field may go by,
  // what to say]. The first problem is said in the server's plain sentence when it gave one.
  fieldErrors() {
    if (!Array.isArray(this.detail)) return [[[], this.message]];
    return this.detail.map((e, i) => [namesOf(e.loc), i === 0 && this.sentence ? this.sentence : e.msg]);
  }
}

// The innermost name first: a union's refusal reads ["body", "<its tag>", "email"].
function namesOf(loc) {
  if (!Array.isArray(loc) || loc[0] !== "body") return [];
  return loc.slice(1).filter((part) => typeof part === "string").reverse();
}

export async function api(method, path, body) {
  const headers = {};
  if (CHANGES.has(method)) headers["X-Longform-CSRF"] = "1";
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  if (response.status === 401 && !path.startsWith("/v1/session")) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    let sentence;
    try { ({ detail = detail, message: sentence } = await response.json()); } catch { /* not JSON */ }
    throw new ApiError(response.status, detail, sentence);
  }
  if (response.status === 204) return null;
  return response.json();
}

// A job's statuses that mean it will not move without a Resume (or at all).
export const STOPPED = new Set(["failed", "cancelled"]);
export const ENDED = new Set(["completed", ...STOPPED]);

export const jobUrl = (id) => `/v1/jobs/${encodeURIComponent(id)}`;

export function liveUrl(id, afterSeq) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${jobUrl(id)}/audit/live?after_seq=${afterSeq}`;
}

// Shows each refusal next to its field (an element #<field>-error), the rest at the form's top.
export function showErrors(form, error) {
  clearErrors(form);
  const general = [];
  let first = null;
  for (const [names, message] of error.fieldErrors()) {
    const field = names.find((name) => form.querySelector(`#${CSS.escape(name)}-error`));
    const slot = field && form.querySelector(`#${CSS.escape(field)}-error`);
    if (!slot) { general.push(names.length ? `${names[0]}: ${message}` : message); continue; }
    slot.textContent = message;
    slot.hidden = false;
    const input = form.querySelector(`#${CSS.escape(field)}`);
    if (input) { input.setAttribute("aria-invalid", "true"); first ??= input; }
  }
  const top = form.querySelector(".form-error");
  if (general.length) { top.textContent = general.join(" "); top.hidden = false; }
  (first ?? (general.length ? top : null))?.focus?.();
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll(".error, .form-error")) { slot.textContent = ""; slot.hidden = true; }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

export function formatDate(iso) {
  return iso ? new Date(iso).toLocaleString() : "–";
}

export const number = (n) => (n ?? 0).toLocaleString("en");
