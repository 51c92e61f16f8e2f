"""Token counts when a provider reports none (a stream without usage, an older server): the
server's own tokenizer where it has one, else an estimate. Either way the figure is marked
estimated in the `llm.call` event, and a job's tokens are never 0 when calls were made."""

import math
from dataclasses import replace

import httpx

from services.common.llm.base import Completion, Prompt

CHARS_PER_TOKEN = 4.0  # English prose in common BPE vocabularies; CJK runs closer to one a character
_CJK_HINT = 0x2E80


def estimated_tokens(text: str) -> int:
    """About one token per four characters, and one per CJK character; at least 1 for any text."""
    if not text:
        return 0
    wide = sum(1 for ch in text if ord(ch) >= _CJK_HINT)
    return max(1, math.ceil((len(text) - wide) / CHARS_PER_TOKEN) + wide)


class TokenCounter:
    """Asks the server's tokenizer (llama-cpp-python: /extras/tokenize/count; llama.cpp:
    /tokenize) once per text; the first endpoint that answers is kept, and when none does, or
    one stops answering, the estimate is used from then on."""

    def __init__(self, base_url: str | None, timeout: float = 10.0) -> None:
        root = (base_url or "").rstrip("/").removesuffix("/v1")
        self._endpoints = [f"{root}/extras/tokenize/count", f"{root}/tokenize"] if root else []
        self._client = httpx.AsyncClient(timeout=timeout) if root else None

    async def completed(self, prompt: Prompt, completion: Completion) -> Completion:
        """The completion with its tokens, counted here when the provider reported none (or
        zeros for a reply that has text)."""
        reported = completion.input_tokens and (completion.output_tokens or not completion.text)
        if reported:
            return completion
        input_tokens, _ = await self._counted(f"{prompt.system}\n{prompt.user}")
        output_tokens, tokenized = await self._counted(completion.text)
        return replace(completion, input_tokens=input_tokens, output_tokens=output_tokens, usage_estimated=True,
                       usage_tokenized=tokenized)

    async def _counted(self, text: str) -> tuple[int, bool]:
        """The tokens, and whether the server's tokenizer counted them (else they are estimated)."""
        for endpoint in list(self._endpoints):
            try:
                tokens = await self._ask(endpoint, text)
            except httpx.TimeoutException:
                break  # a busy server (its tokenizer waits behind generations): estimated this time
            if tokens is not None:
                self._endpoints = [endpoint]
                return tokens, True
            self._endpoints.remove(endpoint)
        return estimated_tokens(text), False

    async def _ask(self, endpoint: str, text: str) -> int | None:
        body = {"input": text} if endpoint.endswith("/count") else {"content": text}
        try:
            response = await self._client.post(endpoint, json=body)
            data = response.json() if response.status_code == 200 else {}
        except httpx.TimeoutException:
            raise
        except (httpx.HTTPError, ValueError):
            return None
        if isinstance(data.get("count"), int):
            return data["count"]
        return len(data["tokens"]) if isinstance(data.get("tokens"), list) else None
