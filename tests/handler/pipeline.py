"""Two handlers in a row, with the test as the bus between them: what the planner dispatched is
handed to the generator, and the generator's reports back to the planner, until the planner has
nothing more to dispatch. Each message is handed on once, in commit order, as a consumer would."""

import uuid

from services.generator.handlers import Ports as GeneratorPorts, write_chunk
from services.planner.handlers import Ports as PlannerPorts, chunk_processed
from tests.handler.effects import outbox


async def write_every_chunk(owner, job_id: uuid.UUID, planner: PlannerPorts, generator: GeneratorPorts) -> None:
    """Every `chunk.write` the planner emits is written; every `chunk.processed` goes back to it."""
    handed: set[uuid.UUID] = set()
    while writes := [w for w in await outbox(owner, "planner", job_id, "chunk.write") if w.event_id not in handed]:
        for write in writes:
            handed.add(write.event_id)
            await write_chunk(write, generator)
        for report in await outbox(owner, "generator", job_id, "chunk.processed"):
            if report.event_id not in handed:
                handed.add(report.event_id)
                await chunk_processed(report, planner)
