// The new-job form: sent as multipart/form-data (a source file, or pasted text, rides along); once
// the job is accepted the browser goes to the job's own page, which follows it live (a reload keeps
// it). Refusals appear next to their fields. The form starts empty, also when the browser brings
// the page back from its history.

import { api, ApiError, clearErrors, showErrors } from "./api.js";
import { setUpNav } from "./site.js";

setUpNav();
const form = document.querySelector("#new-job");
addEventListener("pageshow", (e) => { if (e.persisted) form.reset(); });

// What the page can tell before sending anything (the server checks again and says the same): a
// large file is refused at once, not after a long upload.
function problems() {
  const found = [];
  const target = form.elements.target_words.value.trim();
  if (!/^\d+$/.test(target) || Number(target) < 1 || Number(target) > 500000) {
    found.push({ loc: ["body", "target_words"], msg: "The target must be a whole number of words from 1 to 500,000." });
  }
  const file = form.elements.source.files[0];
  if (file && !/\.(txt|md|docx)$/i.test(file.name)) {
    found.push({ loc: ["body", "source"], msg: "Only .txt, .md and .docx files can be a source." });
  } else if (file) {
    const limit = Number(file.name.toLowerCase().endsWith(".docx") ? form.dataset.maxBodyBytes : form.dataset.maxSourceBytes);
    if (file.size > limit) {
      found.push({ loc: ["body", "source"],
                   msg: `The source is ${size(file.size)}; the limit is ${size(limit)}. Split it or condense it first.` });
    }
  }
  return found;
}

function size(bytes) {
  const [unit, scale] = bytes >= 1048576 ? ["MB", 1048576] : bytes >= 1024 ? ["KB", 1024] : ["bytes", 1];
  return `${unit === "bytes" ? bytes.toLocaleString("en") : (bytes / scale).toFixed(1).replace(/\.0$/, "")} ${unit}`;
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors(form);
  const found = problems();
  if (found.length) {
    showErrors(form, new ApiError(422, found));
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const fields = new FormData(form);
    fields.set("headings", form.elements.headings.checked ? "true" : "false");  // an unchecked box sends nothing
    const accepted = await api("POST", "/v1/jobs", fields);
    form.reset();
    location.assign(`/jobs/${encodeURIComponent(accepted.id)}`);
  } catch (error) {
    button.disabled = false;
    if (error instanceof ApiError) showErrors(form, error); else throw error;
  }
});
