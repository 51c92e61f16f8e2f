"""Anthropic Messages wire format: request parsing, replies, SSE events, error bodies."""

import json
import uuid
from typing import Any

from fastapi.responses import JSONResponse

from fake_llm.exchange import InvalidRequest
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
        )

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        error = {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}
        body = {"type": "error", "error": error, "request_id": f"req_fake_{uuid.uuid4().hex[:20]}"}
        return JSONResponse(body, status_code=status, headers=headers)

    def completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        content = [{"type": "text", "text": reply.text}] if reply.text else []
        usage = {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens}
        return {**_message(body, content, _stop_reason(reply)), "usage": usage}

    def stream_events(self, body: dict[str, Any], reply: Reply) -> list[str]:
        opening = {**_message(body, [], None), "usage": {"input_tokens": reply.input_tokens, "output_tokens": 1}}
        events = [
            _sse("message_start", {"message": opening}),
            _sse("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
            _sse("ping", {}),
        ]
        for piece in stream_pieces(reply.text):
            events.append(_sse("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": piece}}))
        usage = {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens}
        delta = {"stop_reason": _stop_reason(reply), "stop_sequence": None}
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


def _stop_reason(reply: Reply) -> str:
    return "max_tokens" if reply.hit_token_limit else "end_turn"


def _sse(event: str, payload: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps({'type': event, **payload})}\n\n"
