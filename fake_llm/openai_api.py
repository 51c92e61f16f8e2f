"""OpenAI Chat Completions wire format: request parsing, replies, SSE chunks, error bodies."""

import json
import time
import uuid
from typing import Any

from fastapi.responses import JSONResponse

from fake_llm.exchange import InvalidRequest
from fake_llm.formats import OPENAI_PARAMETER, carried_parameter, openai_format
from fake_llm.prompt_cache import openai_prefix
from fake_llm.prose import stream_pieces
from fake_llm.replies import Conversation, Reply

CHAT_COMPLETIONS_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
FAKE_MODELS = ("fake-gpt", "gpt-4o-mini", "gpt-4o")
_ERROR_TYPES = {400: "invalid_request_error", 429: "requests", 500: "server_error", 504: "timeout"}
_ERROR_CODES = {429: "rate_limit_exceeded"}


def model_list() -> dict[str, Any]:
    models = [{"id": name, "object": "model", "created": 0, "owned_by": "fake-llm"} for name in FAKE_MODELS]
    return {"object": "list", "data": models}


class OpenAIDialect:
    def conversation(self, body: dict[str, Any]) -> Conversation:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise InvalidRequest("'messages' must be a non-empty list")
        cap = body.get("max_completion_tokens", body.get("max_tokens"))
        if cap is not None and (not isinstance(cap, int) or cap < 1):
            raise InvalidRequest("max_tokens / max_completion_tokens must be a positive integer")
        return Conversation(
            model=body.get("model"),
            messages=messages,
            system="",
            max_tokens=cap,
            stream=bool(body.get("stream")),
            seed=body.get("seed"),
            asked_format=openai_format(body),
            format_parameter=carried_parameter(body, OPENAI_PARAMETER),
        )

    def refusal(self, parameter: str) -> JSONResponse:
        error = {"message": f"Unrecognized request argument supplied: {parameter}",
                 "type": "invalid_request_error", "param": parameter, "code": None}
        return JSONResponse({"error": error}, status_code=400)

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        error = {
            "message": message,
            "type": _ERROR_TYPES.get(status, "server_error"),
            "param": None,
            "code": _ERROR_CODES.get(status),
        }
        return JSONResponse({"error": error}, status_code=status, headers=headers)

    def completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        message = {"role": "assistant", "content": reply.text, "refusal": None}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": _finish_reason(reply)}
        usage = {"usage": _usage(reply)} if reply.usage else {}
        return {**_envelope(body, "chat.completion"), "choices": [choice], **usage}

    def cache_prefix(self, body: dict[str, Any]) -> str | None:
        return openai_prefix(body)

    def stream_events(self, body: dict[str, Any], reply: Reply) -> list[str]:
        envelope = _envelope(body, "chat.completion.chunk")
        include_usage = bool((body.get("stream_options") or {}).get("include_usage")) and reply.usage
        usage_field = {"usage": None} if include_usage else {}

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            return _sse({**envelope, "choices": [choice], **usage_field})

        events = [chunk({"role": "assistant", "content": "", "refusal": None})]
        events += [chunk({"content": piece}) for piece in stream_pieces(reply.text)]
        events.append(chunk({}, _finish_reason(reply)))
        if include_usage:
            events.append(_sse({**envelope, "choices": [], "usage": _usage(reply)}))
        return events + ["data: [DONE]\n\n"]


def _envelope(body: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": kind,
        "created": int(time.time()),
        "model": body.get("model") or FAKE_MODELS[0],
        "system_fingerprint": "fp_fake_llm",
    }


def _finish_reason(reply: Reply) -> str:
    return "length" if reply.hit_token_limit else "stop"


def _usage(reply: Reply) -> dict[str, int]:
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
        "prompt_tokens_details": {"cached_tokens": reply.cached_input_tokens},
    }


def _sse(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload)}\n\n"
