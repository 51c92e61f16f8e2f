from services.common.config import LlmSettings


class GeneratorSettings(LlmSettings):
    workers: int = 4  # chunks written concurrently by one replica
    max_failures_per_chunk: int = 9  # rejected or failed attempts before the chunk fails
    max_rounds_per_chunk: int = 8  # initial call plus continuations
    tail_words: int = 150  # how much of the previous chunk each prompt carries
    tokens_per_word: float = 1.6  # caps max_tokens from the remaining budget
