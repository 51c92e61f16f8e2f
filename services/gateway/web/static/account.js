// Sign in (POST /v1/session) and sign up (POST /v1/users); both leave the session cookie set.

import { api, clearErrors, showErrors } from "./api.js";

const form = document.querySelector("#account-form");

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors(form);
  const fields = Object.fromEntries(new FormData(form));
  if (fields.name === "") delete fields.name;
  try {
    if (form.dataset.action === "signup") await api("POST", "/v1/users", fields);
    else await api("POST", "/v1/session", fields);
    location.assign(form.dataset.next || "/");
  } catch (error) {
    if (error.fieldErrors) showErrors(form, error); else throw error;
  }
});
