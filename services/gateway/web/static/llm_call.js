// One LLM call of a job, whole (GET /v1/jobs/{id}/llm-calls/{seq}): what was asked, what came back,
// what was cut and what was decided.

import { api, jobUrl, number } from "./api.js";
import { setUpNav } from "./site.js";

setUpNav();
const article = document.querySelector("#llm-call");
const get = (selector) => article.querySelector(selector);

async function show() {
  let call;
  try {
    call = await api("GET", `${jobUrl(article.dataset.jobId)}/llm-calls/${article.dataset.seq}`);
  } catch (error) {
    get(".call-status").textContent = error.message;
    return;
  }
  const where = call.chunk_index === null ? "" : `, chunk ${call.chunk_index + 1}`;
  get(".call-status").textContent = `${call.service}, ${call.purpose}${where}, attempt ${call.attempt}`;
  const facts = [["Model", `${call.model} (${call.provider})`], ["Tokens in / out",
    `${number(call.input_tokens)} / ${number(call.output_tokens)}`], ["Latency", `${number(call.latency_ms)} ms`],
    ["Finish reason", call.finish_reason ?? "–"], ["Reply words", number(call.words)], ["At", call.occurred_at]];
  get(".call-facts").replaceChildren(...facts.flatMap(([name, value]) => {
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = name;
    dd.textContent = value;
    return [dt, dd];
  }));
  get(".call-decision").textContent = call.decision;
  get(".call-system").textContent = call.system_prompt;
  get(".call-prompt").textContent = call.prompt;
  get(".call-reply").textContent = call.reply;
  if (call.cut) {
    get(".call-cut").textContent = `${call.cut}\n\n(${number(call.cut_words)} words)`;
    get(".call-cut-section").hidden = false;
  }
}

show();
