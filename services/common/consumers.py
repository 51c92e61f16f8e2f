"""Every durable JetStream consumer Longform has, named and configured in this one table. A
consumer is shared by all replicas of its service (how a service scales out); it reads one message
type, or every subject (the audit service's). Its settings:

- ack_wait: how long a delivered message may go unacknowledged before it goes to another replica
  (a crashed process's work comes back after this; a live handler sends heartbeats);
- max_deliver: deliveries before the message is given up and its job failed with the reason;
- redelivery: the back-off before a failed message is delivered again (services/common/retry.py);
- workers: messages one replica handles at once;
- max_ack_pending: messages delivered and not yet acknowledged, across all replicas.

Each service's main.py subscribes its handlers to the consumers named here, by message type."""

from dataclasses import dataclass

from contracts.messages import (
    ApprovePlan, AssembleDocument, CancelJob, ChunkProcessed, ChunkSummarized, CompleteJob, DeleteJob, EditPlan,
    ExtendJob, JobCancelled, JobFailed, JobRequested, NotePassage, PassageNoted, PlanReport, ResumeJob,
    SummarizeChunk, WriteChunk,
)
from services.common.retry import OUTAGE, REDELIVERY, Backoff

EVERY_SUBJECT = ">"


@dataclass(frozen=True)
class Consumer:
    service: str
    message_type: str  # EVERY_SUBJECT: all of them, in stream order
    ack_wait: float = 30.0
    max_deliver: int = 20  # -1: never given up
    redelivery: Backoff = REDELIVERY
    workers: int = 1
    max_ack_pending: int = 1000
    batch_size: int = 1  # messages handed to the handler at once

    @property
    def name(self) -> str:
        return consumer_name(self.service, self.message_type)


def consumer_name(service: str, message_type: str) -> str:
    """`planner-job-requested`; `audit-all` for the consumer of every subject."""
    return f"{service}-{'all' if message_type == EVERY_SUBJECT else message_type.replace('.', '-')}"


def planner(s) -> dict[str, Consumer]:
    """`s`: PlannerSettings."""
    workers = {JobRequested.TYPE: s.plan_workers,  # one slow outline call does not hold up other jobs
               ChunkProcessed.TYPE: s.progress_workers, ChunkSummarized.TYPE: s.progress_workers,
               PassageNoted.TYPE: s.progress_workers,
               PlanReport.TYPE: s.plan_workers,  # an outline call each
               ExtendJob.TYPE: 1, ResumeJob.TYPE: 1, JobFailed.TYPE: 1, CompleteJob.TYPE: 1, CancelJob.TYPE: 1,
               DeleteJob.TYPE: 1, EditPlan.TYPE: 1, ApprovePlan.TYPE: 1}
    return _by_type(Consumer("planner", t, s.ack_wait_seconds, workers=n, max_ack_pending=s.max_ack_pending)
                    for t, n in workers.items())


def generator(s) -> dict[str, Consumer]:
    """`s`: GeneratorSettings. A chunk or summary given up after 10 deliveries fails its job
    (each delivery already retried the provider within itself)."""
    return _by_type([
        Consumer("generator", WriteChunk.TYPE, s.ack_wait_seconds, max_deliver=10, workers=s.chunk_workers,
                 max_ack_pending=s.max_ack_pending),
        Consumer("generator", SummarizeChunk.TYPE, s.ack_wait_seconds, max_deliver=10, workers=s.summary_workers,
                 max_ack_pending=s.max_ack_pending),
        Consumer("generator", NotePassage.TYPE, s.ack_wait_seconds, max_deliver=10, workers=s.note_workers,
                 max_ack_pending=s.max_ack_pending),
        Consumer("generator", JobCancelled.TYPE, max_ack_pending=s.max_ack_pending),
        Consumer("generator", DeleteJob.TYPE, max_ack_pending=s.max_ack_pending),
    ])


def assembler(s) -> dict[str, Consumer]:
    """`s`: AssemblerSettings."""
    return _by_type(Consumer("assembler", t, s.ack_wait_seconds, max_ack_pending=s.max_ack_pending)
                    for t in (AssembleDocument.TYPE, DeleteJob.TYPE))


def audit(s) -> Consumer:
    """`s`: AuditSettings. Every event, in stream order, a batch per transaction; never given up
    and soon delivered again (a batch that fails is Postgres away, not the events' fault). Two
    batches in flight: the one being stored and the next, pulled meanwhile."""
    return Consumer("audit", EVERY_SUBJECT, s.ack_wait_seconds, max_deliver=-1, redelivery=OUTAGE,
                    batch_size=s.batch_size, max_ack_pending=s.batch_size * 2)


def _by_type(consumers) -> dict[str, Consumer]:
    return {c.message_type: c for c in consumers}
