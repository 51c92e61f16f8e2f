"""Handlers in a row, with the test as the bus between them: what the planner dispatched is
handed to the generator, and the generator's reports (chunks written, chunks folded into the
memory) back to the planner, until the planner has nothing more to dispatch. Each message is
handed on once, in commit order, as a consumer would."""

import uuid

from services.generator.handlers import Ports as GeneratorPorts, write_chunk
from services.generator.summarizing import summarize_chunk
from services.planner.handlers import Ports as PlannerPorts, chunk_processed, chunk_summarized
from tests.handler.effects import outbox

ROUTES = (("planner", "chunk.write"), ("generator", "chunk.summarize"), ("generator", "chunk.processed"),
          ("generator", "chunk.summarized"))


async def write_every_chunk(owner, job_id: uuid.UUID, planner: PlannerPorts, generator: GeneratorPorts) -> None:
    """Every `chunk.write` the planner emits is written and every `chunk.summarize` folded in; every
    `chunk.processed` and `chunk.summarized` goes back to the planner."""
    handlers = {"chunk.write": lambda m: write_chunk(m, generator),
                "chunk.summarize": lambda m: summarize_chunk(m, generator),
                "chunk.processed": lambda m: chunk_processed(m, planner),
                "chunk.summarized": lambda m: chunk_summarized(m, planner)}
    handed: set[uuid.UUID] = set()
    while True:
        waiting = [m for service, kind in ROUTES for m in await outbox(owner, service, job_id, kind)
                   if m.event_id not in handed]
        if not waiting:
            return
        for message in waiting:
            handed.add(message.event_id)
            await handlers[message.type](message)
