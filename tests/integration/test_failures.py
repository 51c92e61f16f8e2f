"""A message a handler can never process does not leave its job waiting forever: the failure is in
the audit log with its traceback, the job fails with the reason, and resume picks it up."""

import asyncio
import uuid

import nats

from contracts.envelope import Envelope
from contracts.subjects import Subjects


async def _publish(nats_url: str, subjects: Subjects, envelope: Envelope) -> None:
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(subjects.of(envelope.type), envelope.model_dump_json().encode(),
                                     headers={"Nats-Msg-Id": str(envelope.event_id)})
    finally:
        await nc.close()


def test_a_message_that_can_never_be_handled_fails_its_job_with_the_traceback(stack, client) -> None:
    job_id = client.submit(3000, model="fake/latency:seconds=1")
    client.wait_for(job_id, lambda job: job["status"] == "writing")
    user_id = client.audit(job_id)[0]["user_id"]
    poison = Envelope(event_id=uuid.uuid4(), job_id=uuid.UUID(job_id), user_id=uuid.UUID(user_id),
                      type="chunk.write", service="test", data={"chunk_index": "not a number"})
    asyncio.run(_publish(stack.config.nats_url, Subjects(stack.config.bus_prefix), poison))
    final = client.wait(job_id)
    assert final["status"] == "failed"
    assert "generator could not handle chunk.write" in final["error"] and "resume with POST" in final["error"]
    log = client.audit(job_id)
    errors = [e for e in log if e["type"] == "error.raised" and e["service"] == "generator"]
    assert errors and "ValidationError" in errors[0]["data"]["traceback"]
    # The audit service stores the message no handler could take, like every other event.
    assert [e["data"] for e in log if e["event_id"] == str(poison.event_id)] == [poison.data]
    assert client.http.post(f"/v1/jobs/{job_id}/resume").status_code == 202
    client.wait_for(job_id, lambda job: job["status"] != "failed")
    resumed = client.wait(job_id)
    assert resumed["status"] == "completed" and resumed["words"] >= 3000
