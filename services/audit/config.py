from services.common.config import ServiceSettings


class AuditSettings(ServiceSettings):
    """One consumer, one event at a time: events are persisted in the order the stream holds them."""
