from services.common.config import ServiceSettings


class AuditSettings(ServiceSettings):
    """One consumer over every subject, handed batches in stream order: events are persisted in the
    order the stream holds them, a batch per transaction."""

    ack_wait_seconds: float = 30.0  # a batch a crashed audit service held is redelivered after this
    batch_size: int = 2500  # events per fetch and per transaction at most; a quiet bus gives smaller ones
    live_queue_batches: int = 256  # committed batches awaiting the live fan-out; beyond, their lines are not sent live
