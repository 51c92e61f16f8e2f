"""Operators follow one job through every service's JSON logs: the bus binds the job id of the
message being handled, so each line a handler (or the bus, on its behalf) logs carries job_id,
whatever the service: not only the generator's and the LLM client's, which bind it themselves."""

import asyncio
import json
import logging
import secrets
import uuid

import pytest

from contracts.envelope import Envelope
from contracts.messages import ErrorRaised
from contracts.subjects import Subjects
from services.common.bus import Bus
from services.common.consumers import Consumer
from services.common.logs import JsonFormatter

PLANNER_LOGGER = "services.planner.handlers"


class JsonLines(logging.Handler):
    """Formats each record as it is emitted, inside the task that logged it (as stderr would)."""

    def __init__(self, service: str) -> None:
        super().__init__(level=logging.INFO)
        self.setFormatter(JsonFormatter(service))
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def planner_log(caplog):
    caplog.set_level(logging.INFO)
    lines = JsonLines("planner")
    logging.getLogger().addHandler(lines)
    yield lines
    logging.getLogger().removeHandler(lines)


async def test_every_line_logged_while_a_planner_message_is_handled_names_its_job(nats_url, planner_log) -> None:
    bus = Bus(nats_url, Subjects(f"lf{secrets.token_hex(4)}"), "planner")
    job_id, handled = uuid.uuid4(), asyncio.Event()
    deliveries = 0

    async def handler(envelope: Envelope) -> None:
        nonlocal deliveries
        deliveries += 1
        logging.getLogger(PLANNER_LOGGER).info("handling delivery %d", deliveries)
        if deliveries == 1:
            raise RuntimeError("the first delivery fails")  # the bus logs it, then redelivers
        handled.set()

    bus.subscribe(Consumer("planner", ErrorRaised.TYPE), handler)
    await bus.start()
    try:
        envelope = Envelope.wrap(ErrorRaised(message="m", context="job logs test"), service="planner",
                                 job_id=job_id, user_id=None)
        await bus.publish(envelope.type, envelope.model_dump_json().encode(), str(envelope.event_id))
        await asyncio.wait_for(handled.wait(), 60)
    finally:
        await bus.stop()

    handling = [line for line in planner_log.lines if line["message"].startswith("handling delivery")]
    (failed,) = [line for line in planner_log.lines if "failed (delivery 1)" in line["message"]]
    assert [line["message"] for line in handling] == ["handling delivery 1", "handling delivery 2"]
    assert {line.get("job_id") for line in [*handling, failed]} == {str(job_id)}
    assert failed["logger"] == "services.common.bus" and "the first delivery fails" in failed["exception"]
