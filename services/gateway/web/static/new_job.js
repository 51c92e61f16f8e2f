// The new-job form: sent as multipart/form-data (a source file, or pasted text, rides along); the
// Audit Panel opens as soon as the job is accepted. Refusals appear next to their fields.

import { api, clearErrors, showErrors } from "./api.js";
import { auditPanel } from "./panel.js";
import { setUpNav } from "./site.js";

setUpNav();
const form = document.querySelector("#new-job");

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors(form);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const fields = new FormData(form);
    fields.set("headings", form.elements.headings.checked ? "true" : "false");  // an unchecked box sends nothing
    const accepted = await api("POST", "/v1/jobs", fields);
    auditPanel().open(accepted.id, form.elements.title.value || form.elements.instructions.value.split(/[.!?]/)[0].slice(0, 80));
  } catch (error) {
    if (error.fieldErrors) showErrors(form, error); else throw error;
  } finally {
    button.disabled = false;
  }
});
