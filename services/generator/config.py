from services.common.config import LlmSettings, PlanShapeSettings


class GeneratorSettings(LlmSettings, PlanShapeSettings):
    db_pool_size: int = 10  # concurrent handlers each hold a connection while they work
    chunk_workers: int = 4  # chunks written concurrently by one replica
    ack_wait_seconds: float = 15.0  # a crashed generator's chunk is redelivered after this (heartbeats keep live ones)
    max_failures_per_chunk: int = 9  # rejected or failed attempts before the chunk fails
    max_rounds_per_chunk: int = 10  # initial call plus continuations
    tail_words: int = 100  # how much of the previous chunk each prompt carries
    lean_tail_words: int = 40  # ... and each lean prompt, for a model that echoes (services/generator/echoes.py)
    lean_request_words: int = 250  # at most this much asked of such a model in one call: it loops past it
    tokens_per_word: float = 2.0  # a model's tokens per word until its replies tell (services/generator/token_rates.py)
    summary_words: int = 250  # the rolling summary's bound
    gist_words: int = 30  # each write reply's memory tail: what its text says (services/generator/memory_tail.py)
    ledger_entries: int = 20  # the ledger's bound
    summary_attempts: int = 3  # unusable summaries are asked again, then the memory is made in code
    summary_workers: int = 2  # summaries made at once by one replica (each section's in order)
    note_workers: int = 2  # analyze: passages noted at once by one replica
    note_words: int = 120  # analyze: a passage's notes, at most
    note_lines: int = 12  # ... in at most this many notes
    note_attempts: int = 2  # unusable notes are asked again, then made in code
    notes_block_words: int = 1_200  # analyze: the notes a chunk is written from, at most
