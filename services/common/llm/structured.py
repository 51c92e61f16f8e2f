"""Structured output, where the provider offers it, and plain text where it does not: a provider
or model that refuses the parameter (a 4xx naming it) is asked in plain text from then on. The
refusal is an `LlmError` of kind FORMAT_REFUSED, so the attempt is in the log with the decision,
and the one retry policy asks again at once."""

from services.common.llm.base import Completion, LlmError, Prompt
from services.common.llm.errors import classified

FORMAT_REFUSED = "format_refused"
# llama-cpp-python's server answers a json_schema response_format with a 500 naming the field.
_REFUSING_ERRORS = ("BadRequestError", "UnprocessableEntityError", "NotFoundError", "server_error")
_PARAMETERS = ("response_format", "json_schema", "tools", "tool_choice", "input_schema")


class FormatMemory:
    """The models of one provider that refused structured output, for this process's life."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self._plain: set[str] = set()

    def structured(self, model: str, schema: dict | None) -> bool:
        return schema is not None and model not in self._plain

    def refusal(self, err: LlmError, model: str, parameter: str) -> LlmError:
        """The error to raise: FORMAT_REFUSED (remembered) when the provider refused the
        parameter, the error itself otherwise."""
        text = str(err).lower()
        if err.kind not in _REFUSING_ERRORS or not any(name in text for name in _PARAMETERS):
            return err
        self._plain.add(model)
        return LlmError(FORMAT_REFUSED, f"{self.provider} model {model} refused {parameter} ({err}); asked in"
                        " plain text from now on", retryable=True, retry_after=0, latency_ms=err.latency_ms)


async def completed(adapter, prompt: Prompt, parameter: str, sdk_error: type[Exception]) -> Completion:
    """One call through an adapter (its `stream(prompt, model, structured, started)`, `formats`,
    `tokens` and `default_model`): structured where not refused, the refusal remembered, the
    tokens counted when the provider reported none."""
    model = prompt.model or adapter.default_model
    structured = adapter.formats.structured(model, prompt.schema)
    try:
        completion = await classified(lambda started: adapter.stream(prompt, model, structured, started), sdk_error)
    except LlmError as err:
        raise adapter.formats.refusal(err, model, parameter) if structured else err
    return await adapter.tokens.completed(prompt, completion)
