"""One LLM request, any provider: pick the behaviour, log it, answer, fail, dawdle or hang."""

import asyncio
import json
from dataclasses import dataclass, field, replace
from typing import Any, AsyncIterator, Protocol

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from fake_llm.behaviours import BEHAVIOUR_HEADER, BadBehaviour, Behaviour, BehaviourSchedule, number_text
from fake_llm.prompt_cache import PromptCache
from fake_llm.prose import seeded_rng
from fake_llm.replies import Conversation, Reply, compose_reply
from fake_llm.request_log import CHUNK_HEADER, LoggedRequest, RequestLog

CLIENT_CLOSED_REQUEST = 499  # nginx's status for "the client hung up first"
DEFAULT_SLOW_DELAY = 1.0
DEFAULT_LATENCY_SECONDS = 1.0
DEFAULT_HANG_SECONDS = 600.0
DEFAULT_RETRY_AFTER = 1.0
_HANG_POLL_SECONDS = 0.05


class InvalidRequest(ValueError):
    """The request body is not something the provider would accept."""


class Dialect(Protocol):
    def conversation(self, body: dict[str, Any]) -> Conversation: ...

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse: ...

    def refusal(self, parameter: str) -> JSONResponse: ...

    def completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]: ...

    def stream_events(self, body: dict[str, Any], reply: Reply) -> list[str]: ...

    def cache_prefix(self, body: dict[str, Any]) -> str | None: ...


@dataclass
class FakeLLMState:
    schedule: BehaviourSchedule = field(default_factory=BehaviourSchedule)
    log: RequestLog = field(default_factory=RequestLog)
    cache: PromptCache = field(default_factory=PromptCache)


MODEL_BEHAVIOUR_PREFIX = "fake/"


async def answer(request: Request, dialect: Dialect, state: FakeLLMState) -> Response:
    body = await _json_body(request)
    entry = state.log.record(_log_entry(request, body))
    try:
        conversation = dialect.conversation(body)
        chain = state.schedule.next_for(request.headers.get(BEHAVIOUR_HEADER) or _model_spec(body))
    except (InvalidRequest, BadBehaviour) as problem:
        entry.status = 400
        return dialect.error(400, str(problem))
    # Seeded by the request counter too: a repeated prompt draws afresh, and a fresh server fed
    # the same requests in the same order draws the same outcomes. A deterministic provider
    # draws by the prompt alone: the same prompt, the same reply, however often it is asked.
    rng = seeded_rng(conversation.prompt_fingerprint(), None if chain.deterministic else entry.index)
    behaviour, traits = chain.pick(rng), chain.traits(rng)
    entry.spec, entry.behaviour, entry.traits = chain.as_text(), behaviour.as_json(), sorted(traits)
    entry.format = conversation.asked_format.as_text() if conversation.asked_format else None
    response = _refused_format(dialect, conversation) if "reject_formats" in traits else None
    response = response or await _failure(request, dialect, behaviour)
    if response is None:
        reply = compose_reply(conversation, behaviour, traits)
        read, written = state.cache.lookup(dialect.cache_prefix(body))
        reply = replace(reply, cached_input_tokens=min(read, reply.input_tokens),
                        cache_created_tokens=min(written, reply.input_tokens - min(read, reply.input_tokens)))
        entry.reply = reply.kind
        response = await _deliver(dialect, body, reply, conversation.stream, behaviour, entry)
    entry.status = response.status_code
    return response


def _refused_format(dialect: Dialect, conversation: Conversation) -> Response | None:
    """A provider without structured output answers 400 naming the parameter it does not know."""
    parameter = conversation.format_parameter
    return dialect.refusal(parameter) if parameter else None


def _model_spec(body: dict[str, Any]) -> str | None:
    """A model named `fake/<behaviour>` (e.g. `fake/short:fraction=0.5`) behaves so on every
    request, so one job can misbehave without touching the others sharing this server."""
    model = str(body.get("model") or "")
    return model.removeprefix(MODEL_BEHAVIOUR_PREFIX) if model.startswith(MODEL_BEHAVIOUR_PREFIX) else None


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _log_entry(request: Request, body: dict[str, Any]) -> LoggedRequest:
    messages = body.get("messages")
    return LoggedRequest(
        path=request.url.path,
        model=body.get("model"),
        stream=bool(body.get("stream")),
        max_tokens=body.get("max_completion_tokens", body.get("max_tokens")),
        behaviour={},
        messages=messages if isinstance(messages, list) else [],
        chunk=request.headers.get(CHUNK_HEADER),
    )


async def _failure(request: Request, dialect: Dialect, behaviour: Behaviour) -> Response | None:
    if behaviour.kind == "rate_limit":
        retry_after = number_text(behaviour.param("retry_after", DEFAULT_RETRY_AFTER))
        return dialect.error(429, "Rate limit reached (fake).", {"retry-after": retry_after})
    if behaviour.kind == "server_error":
        message = "The server had an error while processing your request (fake)."
        if behaviour.param("leak", 0):  # like a careless proxy: the request's credentials echoed back
            message += f" Request {request.url} with headers {_credentials(request)}"
        return dialect.error(500, message)
    if behaviour.kind == "hang":
        return await _hang(request, dialect, behaviour.param("max_seconds", DEFAULT_HANG_SECONDS))
    return None


def _credentials(request: Request) -> dict[str, str]:
    return {name: value for name, value in request.headers.items() if name in ("authorization", "x-api-key")}


async def _deliver(
    dialect: Dialect, body: dict[str, Any], reply: Reply, stream: bool, behaviour: Behaviour, entry: LoggedRequest
) -> Response:
    first_wait, spread = _delays(behaviour)
    if stream:
        events = dialect.stream_events(body, reply)
        entry.events_total = len(events)
        return StreamingResponse(_paced(events, first_wait, spread, entry), media_type="text/event-stream")
    await asyncio.sleep(first_wait + spread)
    return JSONResponse(dialect.completion(body, reply))


def _delays(behaviour: Behaviour) -> tuple[float, float]:
    """Seconds before the first event, and seconds spread across all of them: `latency` is a
    time to first token, `slow` a slow writer."""
    if behaviour.kind == "latency":
        return behaviour.param("seconds", DEFAULT_LATENCY_SECONDS), 0.0
    if behaviour.kind == "slow":
        return 0.0, behaviour.param("delay", DEFAULT_SLOW_DELAY)
    if behaviour.kind == "loop":
        return 0.0, behaviour.param("delay", 0.0)
    return 0.0, 0.0


async def _hang(request: Request, dialect: Dialect, max_seconds: float) -> Response:
    """Sleep without blocking the loop until the client gives up (or max_seconds pass)."""
    deadline = asyncio.get_running_loop().time() + max_seconds
    while asyncio.get_running_loop().time() < deadline:
        if await request.is_disconnected():
            return Response(status_code=CLIENT_CLOSED_REQUEST)
        await asyncio.sleep(_HANG_POLL_SECONDS)
    return dialect.error(504, "The fake LLM hung until max_seconds ran out.")


async def _paced(events: list[str], first_wait: float, spread: float, entry: LoggedRequest) -> AsyncIterator[str]:
    """The events, spread over `spread` s; a client that closes the stream stops them (the
    response stops asking for more), and the log says how many were written."""
    await asyncio.sleep(first_wait)
    pause = spread / max(len(events), 1)
    for event in events:
        if pause:
            await asyncio.sleep(pause)
        yield event
        entry.events_sent += 1
