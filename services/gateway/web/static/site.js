// What every signed-in page shares: who is signed in, and signing out.

import { api } from "./api.js";

export async function setUpNav() {
  document.querySelector("#sign-out")?.addEventListener("click", async () => {
    try { await api("DELETE", "/v1/session"); } finally { location.assign("/login"); }
  });
  const me = document.querySelector("#me");
  if (!me) return;
  try {
    const user = await api("GET", "/v1/me");
    me.textContent = user.email ?? user.name ?? "";
  } catch { /* the page works without the name */ }
}
