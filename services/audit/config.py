from services.common.config import ServiceSettings


class AuditSettings(ServiceSettings):
    """One consumer over every subject, handed batches in stream order: events are persisted in the
    order the stream holds them, a batch per transaction."""

    batch_size: int = 1000  # events per fetch and per transaction at most; a quiet bus gives smaller ones
