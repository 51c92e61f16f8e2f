"""Anthropic Messages wire format: request parsing, replies, SSE events, error bodies."""

import json
import uuid
from typing import Any

from fastapi.responses import JSONResponse

from fake_llm.exchange import InvalidRequest
from fake_llm.formats import ANTHROPIC_PARAMETER, anthropic_format, carried_parameter
from fake_llm.prompt_cache import anthropic_prefix
from fake_llm.prose import stream_pieces
from fake_llm.replies import Conversation, Reply, content_text

MESSAGES_PATH = "/v1/messages"
DEFAULT_MODEL = "fake-claude"
_ERROR_TYPES = {400: "invalid_request_error", 429: "rate_limit_error", 500: "api_error", 504: "timeout_error"}


class AnthropicDialect:
    def conversation(self, body: dict[str, Any]) -> Conversation:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise InvalidRequest("messages: field required (a non-empty list)")
        cap = body.get("max_tokens")
        if not isinstance(cap, int) or cap < 1:
            raise InvalidRequest("max_tokens: field required (a positive integer)")
        return Conversation(
            model=body.get("model"),
            messages=messages,
            system=content_text(body.get("system")),
            max_tokens=cap,
            stream=bool(body.get("stream")),
            asked_format=anthropic_format(body),
            format_parameter=carried_parameter(body, ANTHROPIC_PARAMETER),
        )

    def refusal(self, parameter: str) -> JSONResponse:
        return self.error(400, f"{parameter}: Extra inputs are not permitted")

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        error = {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}
        body = {"type": "error", "error": error, "request_id": f"req_fake_{uuid.uuid4().hex[:20]}"}
        return JSONResponse(body, status_code=status, headers=headers)

    def completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        if _as_tool(body, reply):
            content = [{**_tool_block(body), "input": _tool_input(reply.text)}]
        else:
            content = [{"type": "text", "text": reply.text}] if reply.text else []
        return {**_message(body, content, _stop_reason(body, reply)), "usage": _usage(reply)}

    def cache_prefix(self, body: dict[str, Any]) -> str | None:
        return anthropic_prefix(body)

    def stream_events(self, body: dict[str, Any], reply: Reply) -> list[str]:
        """Usage fields are required by the SDK: a reply without usage (no_usage) reports zeros."""
        opening = {**_message(body, [], None), "usage": {**_usage(reply), "output_tokens": int(reply.usage)}}
        tool = _as_tool(body, reply)
        block = {**_tool_block(body), "input": {}} if tool else {"type": "text", "text": ""}
        events = [
            _sse("message_start", {"message": opening}),
            _sse("content_block_start", {"index": 0, "content_block": block}),
            _sse("ping", {}),
        ]
        for piece in stream_pieces(reply.text):
            delta = {"type": "input_json_delta", "partial_json": piece} if tool else {"type": "text_delta", "text": piece}
            events.append(_sse("content_block_delta", {"index": 0, "delta": delta}))
        usage = _usage(reply)
        delta = {"stop_reason": _stop_reason(body, reply), "stop_sequence": None}
        return events + [
            _sse("content_block_stop", {"index": 0}),
            _sse("message_delta", {"delta": delta, "usage": usage}),
            _sse("message_stop", {}),
        ]


def _message(body: dict[str, Any], content: list[Any], stop_reason: str | None) -> dict[str, Any]:
    return {
        "id": f"msg_fake_{uuid.uuid4().hex[:20]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model") or DEFAULT_MODEL,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
    }


def _stop_reason(body: dict[str, Any], reply: Reply) -> str:
    if reply.hit_token_limit:
        return "max_tokens"
    return "tool_use" if _as_tool(body, reply) else "end_turn"


def _as_tool(body: dict[str, Any], reply: Reply) -> bool:
    return reply.structured and anthropic_format(body) is not None


def _tool_block(body: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_fake_{uuid.uuid4().hex[:20]}", "name": anthropic_format(body).name}


def _tool_input(text: str) -> dict[str, Any]:
    """The tool's input; a JSON text cut short by a token limit gives an empty one."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _usage(reply: Reply) -> dict[str, int]:
    """Anthropic's input_tokens leaves out the tokens read from and written to the prompt cache."""
    if not reply.usage:
        return {"input_tokens": 0, "output_tokens": 0}
    cached = reply.cached_input_tokens + reply.cache_created_tokens
    return {"input_tokens": reply.input_tokens - cached, "output_tokens": reply.output_tokens,
            "cache_read_input_tokens": reply.cached_input_tokens,
            "cache_creation_input_tokens": reply.cache_created_tokens}


def _sse(event: str, payload: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps({'type': event, **payload})}\n\n"
