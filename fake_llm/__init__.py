"""A fake LLM *server* speaking the OpenAI and Anthropic HTTP APIs, so the real SDKs run in tests.

Base URLs (verified against openai 3.x and anthropic 2.x SDKs):
- openai.OpenAI(base_url="http://HOST:PORT/v1") — the SDK appends "/chat/completions".
- anthropic.Anthropic(base_url="http://HOST:PORT") — the SDK appends "/v1/messages";
  giving it ".../v1" would post to "/v1/v1/messages" and get a 404.

Endpoints: POST /v1/chat/completions, GET /v1/models, POST /v1/messages, and the control API
under /_control (see fake_llm.control). Every request is logged at GET /_control/requests, with
the x-longform-chunk header, the chain asked for (`spec`), the behaviour its draw picked
(`behaviour`), the traits whose draws hit (`traits`), the structured output asked for (`format`:
"json_schema:<name>", "tool:<name>" or null) and the kind of text generated (`reply`: "prose",
"outline", "summary", "json" or null).

What the reply is (fake_llm.structured), read from the system prompt and user messages:
- `OUTLINE_JSON` in the prompt: a planner's outline as JSON (fake_llm.outline),
      {"style": {"tone": str, "tense": str, "point_of_view": str, "audience": str},
       "nodes": [{"title": str, "brief": str, "words": int, "children": [<node>, ...]}, ...]}
  for the last "<number> words" in the prompt, as deep as a `Depth: N` line says (1 sections,
  2 chapters > sections, 3 parts > chapters > sections; default 1). About one leaf per 1,500
  words (1 to ~60 per level), briefs of 15-30 words, leaf budgets summing to within 3-10% of the
  total but never exactly to it, inner nodes' words the sum of their children's; half the
  outlines come inside a ```json fence.
- `SUMMARY:` and `LEDGER:` both in the prompt: "SUMMARY:\n<one paragraph>\n\nLEDGER:\n" then
  3-8 lines "- <Name>: <description>"; the paragraph has the last "<number> words" in the
  prompt (default 150).
- `PASSAGE_NOTES` anywhere in the prompt: notes on the passage the last triple-quoted block holds (an
  analysis, fake_llm.analysis): CLAIM lines taken from its sentences, a NAME line of its
  capitalised words, a QUOTE, within the last "<number> words".
- otherwise prose: the last "<number> words" in the last user message (default 300). When the
  message carries an analysis's notes (lines `§N: ...`), one sentence in three cites one of those
  passages as (§N), and now and then (30 %, seeded) a reply cites one that does not exist. An
  outline asked with a line "Passages: the source is cut into N" names each leaf's passages.
Text is seeded by the prompt (and the request's `seed`), honoured exactly unless max_tokens
(tokens ~ ceil(words * 4 / 3)) cuts it, which reports finish_reason "length".

Structured output (fake_llm.formats): OpenAI `response_format` {"type": "json_schema",
"json_schema": {"name", "schema"}} gets bare JSON (no fence); an Anthropic request whose
`tool_choice` forces a tool ({"type": "tool", "name"} or {"type": "any"}) gets a `tool_use` block
{"type": "tool_use", "id": "toolu_fake_...", "name", "input"}, stop_reason tool_use, streamed as
content_block_start (input {}), `input_json_delta`s whose `partial_json` pieces concatenate to
the JSON, content_block_stop, message_delta. Tools the model may skip (tool_choice auto/none) and
response_format {"type": "text"} get text as above. Schema name `outline`: the outline above;
`memory`: {"summary": <one paragraph of the asked words>, "ledger": [{"name", "description"},
3-8]}; any other: JSON built from the schema (fake_llm.schema_reply: strings as short prose,
numbers, booleans, arrays of 1-3 items, nested objects).

Misbehaviour comes from the header x-fake-behaviour, a model named `fake/<spec>`, the
/_control script queue, the /_control default, or $FAKE_LLM_DEFAULT at startup, in that order
(see fake_llm.behaviours). The text grammar:

    spec      := behaviour ("+" behaviour)*
    behaviour := kind [":" param "=" number ("," param "=" number)*]

e.g. `fake/empty:probability=0.3+rate_limit:probability=0.1,retry_after=1+random_length`. As JSON
(control API) a behaviour is {"kind": K, param: number, ...} and a chain a list of them.
Every behaviour takes `probability` (0-1, default 1); for each request the behaviours are drawn
for in order, the first hit applies, and if none hits the request is answered normally (normal).
Traits (ignore_formats, chatty, reject_formats, no_usage, deterministic) are not candidates for that one pick:
each trait, wherever it stands in the chain, gets its own draw and, when it hits, applies on top
of whatever was picked, so `ignore_formats+chatty+random_length+empty:probability=0.1` is a chatty
provider that never follows a format, writes a random length and sometimes nothing. Draws are
seeded by the prompt and the server's request counter. Kinds and their params:

    normal                            the reply above
    short          fraction=0.3       that fraction of the words, finish_reason stop
    random_length  min=0.2, max=1.8   a fraction drawn uniformly in [min, max], fixed per
                                      prompt; stop (or length if it overruns max_tokens)
    truncated      fraction=0.3       the reply cut to that fraction of its words, length
    empty / refusal / echo            no text / an apology / the last user message
    rate_limit     retry_after=1      429 with a retry-after header
    server_error   leak=0             500; leak=1 echoes the request's URL and credentials in
                                      the error message, as a careless proxy does
    slow           delay=1            the reply, its stream spread over `delay` seconds
    latency        seconds=1          the reply after `seconds` (streams: the first token),
                                      without holding up concurrent requests
    hang           max_seconds=600    no answer until the client gives up (logged as 499)
  traits:
    ignore_formats                    never a format: prose for outlines, summaries, JSON
                                      schemas and forced tools (outline/summary asks: at most
                                      300 words); no JSON, no labels
    chatty         preamble=0.7, closing=0.5, echo=0.4, template=0.4, label=0.3, heading=0.3
                                      the chance of each decoration around prose (obeyed
                                      JSON is left alone): a "Here is" preamble, a closing
                                      remark, 2-4 lines of the last user message echoed,
                                      chat-template tokens, a stray "SUMMARY:" line, the
                                      section's title as a heading of its own; 1 forces
                                      one, 0 leaves it out (fake_llm.chatter)
    reject_formats                    400 naming `response_format` / `tools` when the request
                                      carries it; requests without it are answered as usual
    no_usage                          no usage in replies or streams (Anthropic: zeros, which its
                                      SDK requires)
    deterministic                     temperature 0: every draw is seeded by the prompt alone,
                                      so a repeated prompt gets the same reply (or the same fault)

short and random_length scale the words of outlines and summaries too (and of prose written
instead of them); truncated cuts an outline's JSON, or any structured reply, mid-way, as a token
limit would (finish_reason length / stop_reason max_tokens; a cut tool input arrives as {}, or
streamed as whatever the SDK's partial parse makes of the pieces).

Nothing here runs at import time; `create_app()` builds the app and `serve_in_thread()` /
`running_fake_llm()` run it in-process.
"""

from fake_llm.app import create_app
from fake_llm.behaviours import BEHAVIOUR_HEADER, DEFAULT_ENV_VAR
from fake_llm.request_log import CHUNK_HEADER
from fake_llm.server import FakeLLMServer, running_fake_llm, serve_in_thread

__all__ = [
    "BEHAVIOUR_HEADER",
    "CHUNK_HEADER",
    "DEFAULT_ENV_VAR",
    "FakeLLMServer",
    "create_app",
    "running_fake_llm",
    "serve_in_thread",
]
