"""Realistic audit traffic for benchmarks: users signing up, then jobs running at once, each
putting on the bus what a chunk does (the command, the planner's and the generator's statements,
the LLM call, the chunk's report), their events interleaved as concurrent jobs' are."""

import random
import uuid

from contracts.envelope import Envelope
from contracts.messages import (ChunkProcessed, DbQueried, JobPlanned, JobRequested, LlmCalled, SqlStatement,
                                UserCreated, WriteChunk)


def _queried(*statements: tuple[str, str, str]) -> DbQueried:
    return DbQueried(statements=[
        SqlStatement(sql=sql, tables={table: access}, rows=1, duration_ms=round(random.uniform(0.2, 3.0), 3))
        for sql, table, access in statements])


def _llm_called(index: int) -> LlmCalled:
    return LlmCalled(attributes={
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai-compatible",
        "gen_ai.request.model": "fake-writer", "gen_ai.request.max_tokens": 1400,
        "gen_ai.usage.input_tokens": random.randint(900, 1400), "gen_ai.usage.output_tokens": 1000,
        "gen_ai.response.finish_reasons": "stop", "longform.purpose": "write",
        "longform.latency_ms": round(random.uniform(500, 4000), 1), "longform.time_to_first_token_ms": 180.0,
        "longform.attempt": 1, "longform.chunk_index": index, "longform.kept": True, "longform.output_words": 752,
        "longform.prompt_summary": "Write the next 750 words of the section, continuing from the ferrymen ...",
        "longform.response_summary": "The ferrymen of the lower reach kept no written records, but ...",
        "longform.stored_as": f"generator.llm_calls/{index}", "error.type": None})


def _chunk_cycle(index: int) -> list[tuple[str, object]]:
    """What one chunk puts on the bus, (service, message) in the order the services emit them."""
    return [
        ("planner", WriteChunk(chunk_index=index, section_index=index // 8, section_title=f"Section {index // 8}",
                               brief="The river's early centuries, told through its ferrymen.", budget_words=750,
                               title="A long history of an imaginary river", instructions="Plain, vivid prose.",
                               previous_chunk_index=index - 1 if index else None)),
        ("planner", _queried(
            ("UPDATE planner.chunks SET status = $3 WHERE job_id = $1 AND chunk_index = $2", "planner.chunks", "write"),
            ("SELECT chunk_index, status FROM planner.chunks WHERE job_id = $1", "planner.chunks", "read"))),
        ("generator", _llm_called(index)),
        ("generator", _queried(
            ("INSERT INTO generator.llm_calls (job_id, chunk_index, prompt, reply) VALUES ($1, $2, $3, $4)",
             "generator.llm_calls", "write"),
            ("INSERT INTO generator.chunks (job_id, chunk_index, text, words) VALUES ($1, $2, $3, $4)",
             "generator.chunks", "write"))),
        ("generator", ChunkProcessed(chunk_index=index, budget_words=750, output_words=752, input_words=1200,
                                     passed=True, attempts=1)),
    ]


def _job_batches(job: uuid.UUID, user: uuid.UUID, chunks: int) -> list[list[Envelope]]:
    """A job's events in groups that travel together: its start, then one group per chunk."""
    start = [("gateway", JobRequested(mode="generate", title="A long history of an imaginary river",
                                      instructions="Plain, vivid prose.", target_words=750 * chunks)),
             ("planner", JobPlanned(sections=chunks // 8 + 1, chunks_total=chunks, planned_words=750 * chunks))]
    groups = [start] + [_chunk_cycle(i) for i in range(chunks)]
    return [[Envelope.wrap(m, service=s, job_id=job, user_id=user) for s, m in group] for group in groups]


def bench_events(total: int, jobs: int, users: int) -> list[Envelope]:
    """`total` events: each user's sign-up, then `jobs` jobs running at once, their chunk groups
    interleaved at random (each job's own events stay in order)."""
    owners = [uuid.uuid4() for _ in range(users)]
    events = [Envelope.wrap(UserCreated(name=f"user {i}"), service="gateway", job_id=None, user_id=u)
              for i, u in enumerate(owners)]
    chunks = (total - users) // (5 * jobs) + 1
    pending = [_job_batches(uuid.uuid4(), owners[j % users], chunks) for j in range(jobs)]
    while len(events) < total:
        job = random.choice([p for p in pending if p])
        events += job.pop(0)
    return events[:total]
