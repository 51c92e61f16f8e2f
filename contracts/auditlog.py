"""The shape of one audit-log line, as downloads and the websocket deliver it."""

import json
from datetime import timezone
from typing import Any, Mapping


def event_line(row: Mapping[str, Any]) -> dict:
    return {
        "seq": row["seq"], "event_id": str(row["event_id"]), "type": row["type"],
        "ts": row["occurred_at"].astimezone(timezone.utc).isoformat(timespec="microseconds"), "service": row["service"],
        "job_id": str(row["job_id"]) if row["job_id"] else None,
        "user_id": str(row["user_id"]) if row["user_id"] else None, "data": row["data"],
    }


def encode_line(line: dict) -> bytes:
    return json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode()
