"""A model's output tokens per word, learned from its replies' usage (issue 19, part 3). A write
call's max_tokens is the words still needed plus a margin, at this rate: a model that writes far
past what it is asked is cut at the margin, so an overshoot costs at most that, not whatever the
model felt like writing. Until a model has answered, the configured `tokens_per_word` (generous:
any tokenizer, any language) stands. Per process, like the echo memory."""

from contracts.wordcount import count_words
from services.common.llm import Completion

LEARN_FROM_WORDS = 40  # a shorter reply's rate says more about its markup than about the model
WEIGHT = 0.3  # of each new reply in the running rate
LOWEST, HIGHEST = 0.5, 8.0  # rates outside these are a provider's usage gone wrong, not a tokenizer


class TokenRates:
    def __init__(self) -> None:
        self._rates: dict[str, float] = {}

    def per_word(self, model: str, default: float) -> float:
        return self._rates.get(model, default)

    def observed(self, model: str, completion: Completion) -> None:
        """Learns from a reply whose usage the provider reported, or its server's tokenizer counted
        (llama.cpp streams none): never from our own estimates."""
        words = count_words(completion.text)
        guessed = completion.usage_estimated and not completion.usage_tokenized
        if guessed or not completion.output_tokens or words < LEARN_FROM_WORDS:
            return
        rate = completion.output_tokens / words
        if not LOWEST <= rate <= HIGHEST:
            return
        before = self._rates.get(model)
        self._rates[model] = rate if before is None else before + WEIGHT * (rate - before)
