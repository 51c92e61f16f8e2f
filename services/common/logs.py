"""The one logger setup: one JSON object per line on stderr (time, level, service, logger, message,
job_id when the line is about a job, the traceback when there is one), for log collectors."""

import contextvars
import json
import logging
import sys
import uuid
from datetime import datetime, timezone

_job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("longform_job_id", default=None)


def bind_job(job_id: uuid.UUID | str | None) -> None:
    """Every line logged from now on in this task (and the tasks it starts) names this job."""
    _job_id.set(str(job_id) if job_id is not None else None)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        job_id = getattr(record, "job_id", None) or _job_id.get()
        if job_id is not None:
            line["job_id"] = str(job_id)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def setup_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger("faststream").setLevel(logging.WARNING)
