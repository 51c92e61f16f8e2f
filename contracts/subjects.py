"""Subject and stream names. Every name hangs off one prefix so separate
deployments (or test sessions) can share one NATS without seeing each other."""

from dataclasses import dataclass

DEFAULT_PREFIX = "longform"


@dataclass(frozen=True)
class Subjects:
    prefix: str = DEFAULT_PREFIX

    @property
    def stream(self) -> str:
        return self.prefix.upper().replace(".", "_").replace("-", "_")

    @property
    def all(self) -> str:
        return f"{self.prefix}.>"

    def of(self, message_type: str) -> str:
        """Subject a message of this type travels on, e.g. `longform.job.requested`."""
        return f"{self.prefix}.{message_type}"

    def anchor(self, job_id: str) -> str:
        """Where the audit service publishes a job's chain head when it completes (core NATS): a
        witness outside the database that keeps these can later prove a log was rewritten."""
        return f"{self.prefix}-anchors.{job_id}"

    def live(self, stream_id: str) -> str:
        """Core-NATS subject for persisted events of one job (outside the JetStream stream): each
        message holds one or more of its lines, in seq order, one a row."""
        return f"{self.prefix}-live.{stream_id}"
