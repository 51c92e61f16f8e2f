"""Structured output as a request asks for it: OpenAI's `response_format` (json_schema), or an
Anthropic tool the request forces with `tool_choice`. What a provider without structured output
refuses is the parameter itself, forced or not, so that is read separately."""

from dataclasses import dataclass
from typing import Any

OPENAI_PARAMETER, ANTHROPIC_PARAMETER = "response_format", "tools"
_FORCING_CHOICES = frozenset({"tool", "any"})  # Anthropic's "auto" and "none" let the model answer in text
_ANY_OBJECT = {"type": "object"}


@dataclass(frozen=True)
class AskedFormat:
    kind: str  # "json_schema" or "json_object" (OpenAI), "tool" (Anthropic)
    name: str
    schema: dict[str, Any]

    def as_text(self) -> str:
        return f"{self.kind}:{self.name}"


def openai_format(body: dict[str, Any]) -> AskedFormat | None:
    wanted = body.get(OPENAI_PARAMETER)
    if not isinstance(wanted, dict) or wanted.get("type") == "text":
        return None
    spec = _object_at(wanted, "json_schema", {})
    kind = "json_object" if wanted.get("type") == "json_object" else "json_schema"
    return AskedFormat(kind, str(spec.get("name") or "json"), _object_at(spec, "schema", _ANY_OBJECT))


def anthropic_format(body: dict[str, Any]) -> AskedFormat | None:
    tools = [tool for tool in body.get(ANTHROPIC_PARAMETER) or () if isinstance(tool, dict)]
    choice = _object_at(body, "tool_choice", {})
    if not tools or choice.get("type") not in _FORCING_CHOICES:
        return None
    tool = next((tool for tool in tools if tool.get("name") == choice.get("name")), tools[0])
    return AskedFormat("tool", str(tool.get("name") or "tool"), _object_at(tool, "input_schema", _ANY_OBJECT))


def carried_parameter(body: dict[str, Any], parameter: str) -> str | None:
    """The structured-output parameter, when the request carries one at all."""
    return parameter if body.get(parameter) is not None else None


def _object_at(container: dict[str, Any], key: str, default: dict[str, Any]) -> dict[str, Any]:
    value = container.get(key)
    return value if isinstance(value, dict) else default
