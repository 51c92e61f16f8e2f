"""Structured output as a request asks for it: OpenAI's `response_format` (json_schema), or an
Anthropic tool the request forces with `tool_choice`. The parameter's name is kept too, so a
provider that refuses structured output can name it in its 400."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AskedFormat:
    kind: str  # "json_schema" (OpenAI) or "tool" (Anthropic)
    name: str
    schema: dict[str, Any]
    parameter: str  # "response_format" or "tools"

    def as_text(self) -> str:
        return f"{self.kind}:{self.name}"


def openai_format(body: dict[str, Any]) -> AskedFormat | None:
    wanted = body.get("response_format")
    if not isinstance(wanted, dict):
        return None
    spec = wanted.get("json_schema") if isinstance(wanted.get("json_schema"), dict) else {}
    schema = spec.get("schema") if isinstance(spec.get("schema"), dict) else {"type": "object"}
    return AskedFormat("json_schema", str(spec.get("name") or "json"), schema, "response_format")


def anthropic_format(body: dict[str, Any]) -> AskedFormat | None:
    tools = [t for t in body.get("tools") or () if isinstance(t, dict)]
    if not tools:
        return None
    choice = body.get("tool_choice") if isinstance(body.get("tool_choice"), dict) else {}
    tool = next((t for t in tools if t.get("name") == choice.get("name")), tools[0])
    schema = tool.get("input_schema") if isinstance(tool.get("input_schema"), dict) else {"type": "object"}
    return AskedFormat("tool", str(tool.get("name") or "tool"), schema, "tools")
