"""The table of durable consumers (services/common/consumers.py): every consumer named once, after
its service and message type, configured from its service's settings; a bus reads only through
its own service's consumers."""

import pytest

from contracts.messages import BY_TYPE, ResumeJob, SummarizeChunk, WriteChunk
from contracts.subjects import Subjects
from services.assembler.config import AssemblerSettings
from services.audit.config import AuditSettings
from services.common import consumers
from services.common.bus import Bus
from services.common.consumers import EVERY_SUBJECT, Consumer, consumer_name
from services.generator.config import GeneratorSettings
from services.planner.config import PlannerSettings

_URL = {"database_url": "postgresql://unused/unused"}


def every_consumer(**overrides) -> list[Consumer]:
    return [*consumers.planner(PlannerSettings(**_URL, **overrides)).values(),
            *consumers.generator(GeneratorSettings(**_URL, **overrides)).values(),
            *consumers.assembler(AssemblerSettings(**_URL, **overrides)).values(),
            consumers.audit(AuditSettings(**_URL, **overrides))]


def test_every_consumer_has_a_name_of_its_own() -> None:
    names = [c.name for c in every_consumer()]
    assert len(names) == len(set(names))
    assert "planner-job-resume_requested" in names and "audit-all" in names


def test_each_consumer_reads_a_message_type_the_contracts_define() -> None:
    for c in every_consumer():
        assert c.message_type == EVERY_SUBJECT or c.message_type in BY_TYPE, c.name
        assert c.name == consumer_name(c.service, c.message_type)


def test_the_consumer_a_resume_names_in_its_event_is_the_planners() -> None:
    assert consumers.planner(PlannerSettings(**_URL))[ResumeJob.TYPE].name == consumer_name("planner", ResumeJob.TYPE)


def test_ack_wait_and_workers_come_from_the_services_settings() -> None:
    table = consumers.generator(GeneratorSettings(**_URL, ack_wait_seconds=42.0, chunk_workers=7, summary_workers=3,
                                                  max_ack_pending=9))
    assert (table[WriteChunk.TYPE].ack_wait, table[WriteChunk.TYPE].workers) == (42.0, 7)
    assert table[SummarizeChunk.TYPE].workers == 3
    assert {c.max_ack_pending for c in table.values()} == {9}


def test_the_audit_consumer_never_gives_up_and_holds_two_batches() -> None:
    audit = consumers.audit(AuditSettings(**_URL, batch_size=50))
    assert (audit.max_deliver, audit.batch_size, audit.max_ack_pending) == (-1, 50, 100)


def test_a_bus_refuses_to_read_through_another_services_consumer() -> None:
    bus = Bus("nats://127.0.0.1:1", Subjects("unused"), "assembler")  # subscribing does not connect
    with pytest.raises(ValueError, match="generator-chunk-write"):
        bus.subscribe(consumers.generator(GeneratorSettings(**_URL))[WriteChunk.TYPE], lambda envelope: None)
