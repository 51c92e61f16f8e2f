from services.common.config import ServiceSettings


class AssemblerSettings(ServiceSettings):
    ack_wait_seconds: float = 60.0  # a crashed assembler's work is redelivered after this (heartbeats keep live ones)
    max_extension_rounds: int = 5  # extension plans before a short job fails
    count_slice_chars: int = 262_144  # the document is counted in slices of this size, never whole
