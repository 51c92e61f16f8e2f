"""Wiring only: settings, connections, subscribers."""

from contracts.messages import DeleteJob, JobCancelled, NotePassage, SummarizeChunk, WriteChunk
from services.common import consumers
from services.common.bus import Bus
from services.common.db import Database
from services.common.llm import provider_from_settings
from services.common.runtime import serve
from services.generator.config import GeneratorSettings
from services.generator.handlers import Ports, delete_job, job_cancelled, write_chunk
from services.generator.noting import note_passage
from services.generator.summarizing import summarize_chunk
from services.generator.retention import RetentionSettings, run_retention


async def main() -> None:
    settings = GeneratorSettings()
    consumer = consumers.generator(settings)
    retention = RetentionSettings()  # off unless LONGFORM_RETENTION_* are set (SPEC S1)

    async def wire(db: Database, bus: Bus) -> list:
        ports = Ports(db, provider_from_settings(settings, db), settings)
        bus.subscribe(consumer[WriteChunk.TYPE], lambda envelope: write_chunk(envelope, ports))
        bus.subscribe(consumer[SummarizeChunk.TYPE], lambda envelope: summarize_chunk(envelope, ports))
        bus.subscribe(consumer[NotePassage.TYPE], lambda envelope: note_passage(envelope, ports))
        bus.subscribe(consumer[JobCancelled.TYPE], lambda envelope: job_cancelled(envelope, ports))
        bus.subscribe(consumer[DeleteJob.TYPE], lambda envelope: delete_job(envelope, ports))
        return [lambda: run_retention(db, retention)] if retention.on else []

    await serve("generator", settings, wire)
