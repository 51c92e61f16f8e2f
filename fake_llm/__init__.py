"""A fake LLM *server* speaking the OpenAI and Anthropic HTTP APIs, so the real SDKs run in tests.

Base URLs (verified against openai 3.x and anthropic 2.x SDKs):
- openai.OpenAI(base_url="http://HOST:PORT/v1") — the SDK appends "/chat/completions".
- anthropic.Anthropic(base_url="http://HOST:PORT") — the SDK appends "/v1/messages";
  giving it ".../v1" would post to "/v1/v1/messages" and get a 404.

Endpoints: POST /v1/chat/completions, GET /v1/models, POST /v1/messages, and the control API
under /_control (see fake_llm.control). Length: the first "<number> words" in the last user
message (default 300), honoured exactly unless max_tokens (tokens ~ ceil(words * 4 / 3)) cuts
it. Misbehaviour: header x-fake-behaviour, the /_control script queue, the /_control default,
or $FAKE_LLM_DEFAULT at startup (see fake_llm.behaviours). Every request is logged, with the
x-longform-chunk header, at GET /_control/requests.

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
