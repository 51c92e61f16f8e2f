"""The shape of one audit-log line, as downloads and the websocket deliver it."""

import json
from datetime import timezone
from typing import Any, Mapping


def stream_id(job_id, user_id) -> str:
    """A job's events form its stream; account events without a job form the user's."""
    if job_id:
        return str(job_id)
    return f"user:{user_id}" if user_id else "system"


def event_line(row: Mapping[str, Any]) -> dict:
    return {
        "seq": row["seq"], "event_id": str(row["event_id"]), "type": row["type"],
        "ts": row["occurred_at"].astimezone(timezone.utc).isoformat(timespec="microseconds"), "service": row["service"],
        "job_id": str(row["job_id"]) if row["job_id"] else None,
        "user_id": str(row["user_id"]) if row["user_id"] else None, "data": row["data"],
    }


def encode_line(line: dict) -> bytes:
    return json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode()


def _essentials(event_type: str, data: dict) -> str:
    if event_type == "db.query":
        statements = data.get("statements", [])
        first = statements[0]["sql"] if statements else ""
        return f"{len(statements)} statement(s): {first[:120]}"
    if event_type == "llm.call":
        a = data.get("attributes", {})
        return (f"{a.get('longform.purpose')} chunk={a.get('longform.chunk_index')} attempt={a.get('longform.attempt')}"
                f" model={a.get('gen_ai.request.model')} in={a.get('gen_ai.usage.input_tokens')}"
                f" out={a.get('gen_ai.usage.output_tokens')} {a.get('longform.latency_ms')}ms"
                f" finish={a.get('gen_ai.response.finish_reasons')} kept={a.get('longform.kept')}"
                + (f" error={a['error.type']}" if a.get("error.type") else ""))
    if event_type == "chunk.processed":
        return (f"chunk {data.get('chunk_index')}: {data.get('output_words')}/{data.get('target_words')} words,"
                f" {'pass' if data.get('passed') else 'fail'}" + (f" ({data['reason']})" if data.get("reason") else ""))
    return " ".join(f"{k}={v}" for k, v in data.items() if not isinstance(v, (dict, list)) and len(str(v)) <= 120)


def text_line(line: dict) -> str:
    """One readable line: time, seq, service, type, the essentials."""
    return f"{line['ts']}  #{line['seq']:<6} {line['service']:<9} {line['type']:<20} " \
           f"{_essentials(line['type'], line['data'])}".rstrip()
