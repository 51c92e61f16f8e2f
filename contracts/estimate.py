"""What a job will spend before it runs (`POST /v1/jobs?dry_run=true`): its LLM calls and tokens,
counted by the planner's own rules (contracts/budgets.py) for the outline, chunks and notes a job
makes, and by the writer's: a chunk's first call asks `request_share` of its budget, a second
asks the rest, and the first reply ends with the chunk's memory tail, so no chunk needs a
summary call (services/generator/memory_tail.py). It is the run in which every reply is usable
and as long as asked: retries, further continuations, rejected replies, replies without a memory
tail (then a summary call) and extension sections come on top (BENCHMARKS.md measures how much
against a misbehaving provider). Tokens are words times `tokens_per_word`; a prompt's fixed part
(its template, the memory it carries, the previous chunk's tail) is counted in words as
`Assumptions` says."""

import math
from dataclasses import asdict, dataclass

from contracts.budgets import budgets, largest_remainder, outline_sections, passage_words


@dataclass(frozen=True)
class PlanShape:
    """The planner's settings that decide how many calls a job makes."""

    chunk_words: int = 800
    chunks_per_section: int = 3
    single_chunk_words: int = 800
    passage_words: int = 1_000  # analyze
    request_share: float = 1.0  # of a chunk's budget, asked by its first call (the generator's setting) ...
    min_request_words: int = 60  # ... and a call asks at least this much


@dataclass(frozen=True)
class Assumptions:
    """Words of each prompt's fixed part and of each reply the job does not choose."""

    tokens_per_word: float = 1.35  # English prose, for OpenAI's and Anthropic's tokenisers
    write_prompt_words: int = 260  # templates, brief, hand-offs, the previous chunk's tail (100)
    memory_tail_words: int = 50  # a chunk's memory tail: marker, a 30-word gist, a few ledger lines ...
    gist_words: int = 30  # ... of which the gist grows the summary a prompt carries, up to summary_words ...
    summary_words: int = 250
    ledger_words_per_chunk: int = 20  # ... and its ledger lines the ledger, up to ledger_words (20 entries)
    ledger_words: int = 240
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
        made = [_writes(job, chunks, source_per_chunk, a, shape)]
    else:
        chunks = _generate_chunks(job.target_words, shape)
        made = [_notes(job, shape, a), _report_outline(job, shape, a)] if job.mode == "analyze" else [
            _outline(job, shape, a)]
        notes = min(a.notes_block_words, job.source_words) if job.mode == "analyze" else 0
        made.append(_writes(job, chunks, notes, a, shape))
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


def _calls_for(budget: int, shape: PlanShape) -> tuple[int, int]:
    """A chunk's calls and the words its replies hold: the first asks a share of the budget, a
    second the rest (at least `min_request_words`, trimmed to the budget but paid for)."""
    share = shape.request_share if budget >= 4 * shape.min_request_words else 1.0  # services/generator/writer.py
    first = max(min(budget, shape.min_request_words), math.ceil(budget * share))
    if first >= budget:
        return 1, first
    return 2, first + max(budget - first, min(shape.min_request_words, budget))


def _writes(job: Request, chunks: list[int], source_per_chunk: int, a: Assumptions,
            shape: PlanShape = PlanShape()) -> Calls:
    fixed = a.write_prompt_words + job.request_words + source_per_chunk
    made = [_calls_for(budget, shape) for budget in chunks]
    prompts = sum(calls * (fixed + _memory_words(k, a)) for k, (calls, _) in enumerate(made))
    tails = a.memory_tail_words * (len(chunks) - 1)  # the plan's last chunk is folded in code: no tail asked
    return Calls("write", "writer", sum(c for c, _ in made), _tokens(prompts, a),
                 _tokens(sum(w for _, w in made) + tails, a))


def _memory_words(folded: int, a: Assumptions) -> int:
    """The memory a chunk's prompt carries after `folded` chunks: it grows by each one's tail, to its bounds."""
    return min(a.summary_words, folded * a.gist_words) + min(a.ledger_words, folded * a.ledger_words_per_chunk)


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
