"""What a job will spend before it runs (`POST /v1/jobs?dry_run=true`): its LLM calls and tokens,
counted by the planner's own rules (contracts/budgets.py) for the outline, chunks, summaries and
notes a job makes. It is the run in which every reply is usable at once: retries, continuations
of short replies, rejected replies and extension sections come on top (BENCHMARKS.md measures
how much: about 1.5x the output and 2x the input of this figure against a misbehaving provider).
Tokens are words times `tokens_per_word`; a prompt's fixed part (its template, the memory it
carries, the previous chunk's tail) is counted in words as `Assumptions` says."""

import math
from dataclasses import asdict, dataclass

from contracts.budgets import budgets, largest_remainder, outline_sections, passage_words


@dataclass(frozen=True)
class PlanShape:
    """The planner's settings that decide how many calls a job makes."""

    chunk_words: int = 800
    chunks_per_section: int = 3
    single_chunk_words: int = 50
    passage_words: int = 1_000  # analyze


@dataclass(frozen=True)
class Assumptions:
    """Words of each prompt's fixed part and of each reply the job does not choose."""

    tokens_per_word: float = 1.35  # English prose, for OpenAI's and Anthropic's tokenisers
    write_prompt_words: int = 850  # template, summary (250), ledger (30 entries), brief, hand-offs, tail (150)
    summary_prompt_words: int = 600  # template, the summary and ledger folded into
    summary_reply_words: int = 350  # the new summary and the chunk's ledger lines
    note_prompt_words: int = 120
    note_reply_words: int = 120
    outline_prompt_words: int = 250
    outline_words_per_section: int = 50  # a section's title, brief and budget in the reply
    notes_block_words: int = 1_200  # analyze: the notes each chunk is written from, at most
    digest_line_words: int = 40  # analyze: the report's outline sees this much of each passage's notes ...
    digest_words: int = 6_000  # ... and at most this much in all


@dataclass(frozen=True)
class Calls:
    purpose: str  # outline, note, write, summarize
    role: str  # whose model answers: planner, writer or summary
    calls: int
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Request:
    mode: str
    target_words: int
    request_words: int  # the title and instructions, which every prompt carries
    source_words: int = 0  # rewrite, analyze


def estimate(job: Request, shape: PlanShape = PlanShape(), a: Assumptions = Assumptions()) -> list[Calls]:
    """The calls of each purpose the plan makes, with their tokens (no purpose with no call)."""
    if job.mode == "rewrite":
        chunks = _rewrite_chunks(job, shape)
        source_per_chunk = math.ceil(job.source_words / len(chunks))
        made = [_writes(job, chunks, source_per_chunk, a)]
    else:
        chunks = _generate_chunks(job.target_words, shape)
        made = [_notes(job, shape, a), _report_outline(job, shape, a)] if job.mode == "analyze" else [
            _outline(job, shape, a)]
        notes = min(a.notes_block_words, job.source_words) if job.mode == "analyze" else 0
        made.append(_writes(job, chunks, notes, a))
    made.append(_summaries(chunks, a))
    return [c for c in made if c.calls]


def _tokens(words: float, a: Assumptions) -> int:
    return math.ceil(words * a.tokens_per_word)


def _generate_chunks(target: int, shape: PlanShape) -> list[int]:
    """An even outline's chunks: the LLM's sections vary in size, rarely in the total they make."""
    if target <= shape.single_chunk_words:
        return [target]
    section_words = shape.chunk_words * shape.chunks_per_section
    return [c for s in budgets(target, section_words) for c in budgets(s, shape.chunk_words)]


def _rewrite_chunks(job: Request, shape: PlanShape) -> list[int]:
    """A passage per chunk (paragraph ends make a few more), each reworked to its share of the target."""
    source = max(job.source_words, 1)
    count = math.ceil(source / passage_words(source, job.target_words, shape.chunk_words))
    return [max(1, b) for b in largest_remainder(job.target_words, [1.0] * count)]  # each passage gets a word


def _writes(job: Request, chunks: list[int], source_per_chunk: int, a: Assumptions) -> Calls:
    fixed = a.write_prompt_words + job.request_words + source_per_chunk
    return Calls("write", "writer", len(chunks), _tokens(fixed * len(chunks), a), _tokens(sum(chunks), a))


def _summaries(chunks: list[int], a: Assumptions) -> Calls:
    """Every chunk but the last is folded into the memory by a call (the last is folded in code)."""
    folded = chunks[:-1]
    return Calls("summarize", "summary", len(folded), _tokens(a.summary_prompt_words * len(folded) + sum(folded), a),
                 _tokens(a.summary_reply_words * len(folded), a))


def _outline(job: Request, shape: PlanShape, a: Assumptions) -> Calls:
    if job.target_words <= shape.single_chunk_words:
        return Calls("outline", "planner", 0, 0, 0)
    sections = outline_sections(job.target_words, shape.chunk_words * shape.chunks_per_section)
    return Calls("outline", "planner", 1, _tokens(a.outline_prompt_words + job.request_words, a),
                 _tokens(sections * a.outline_words_per_section, a))


def _passages(job: Request, shape: PlanShape) -> int:
    return max(1, math.ceil(job.source_words / shape.passage_words))


def _notes(job: Request, shape: PlanShape, a: Assumptions) -> Calls:
    count = _passages(job, shape)
    prompts = (a.note_prompt_words + job.request_words) * count + job.source_words
    return Calls("note", "summary", count, _tokens(prompts, a), _tokens(a.note_reply_words * count, a))


def _report_outline(job: Request, shape: PlanShape, a: Assumptions) -> Calls:
    """An analysis's report is always outlined, from a digest of the notes."""
    digest = min(a.digest_words, _passages(job, shape) * a.digest_line_words)
    sections = outline_sections(job.target_words, shape.chunk_words * shape.chunks_per_section)
    return Calls("outline", "planner", 1, _tokens(a.outline_prompt_words + job.request_words + digest, a),
                 _tokens(sections * a.outline_words_per_section, a))


def described(shape: PlanShape, a: Assumptions) -> dict:
    """The rules and assumptions an estimate was made by, as the API shows them."""
    return {**asdict(shape), **asdict(a)}
