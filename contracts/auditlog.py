"""The shape of one audit-log line, as downloads and the websocket deliver it, and the hash chain
that makes each stream tamper-evident (migrations/0019): an event's hash is
sha256(previous hash || canonical(line)), starting from 32 zero bytes; `canonical` is the line
without its hash as compact JSON with sorted keys. docs/verify_audit_log.py checks a download
with nothing but this rule."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

import orjson

ZERO_HASH = bytes(32)
_DIGITS_AND_POINT = b"0123456789."


def stream_id(job_id, user_id) -> str:
    """A job's events form its stream; account events without a job form the user's."""
    if job_id:
        return str(job_id)
    return f"user:{user_id}" if user_id else "system"


def event_line(row: Mapping[str, Any]) -> dict:
    line = {
        "seq": row["seq"], "event_id": str(row["event_id"]), "type": row["type"],
        "ts": line_time(row["occurred_at"]), "service": row["service"],
        "job_id": str(row["job_id"]) if row["job_id"] else None,
        "user_id": str(row["user_id"]) if row["user_id"] else None, "data": row["data"],
    }
    if row.get("step") is not None:  # absent, not null, in events without one: their hashes stay as written
        line["step"] = row["step"]
    if row.get("hash") is not None:
        line["hash"] = bytes(row["hash"]).hex()
    return line


def line_time(occurred_at: datetime) -> str:
    return occurred_at.astimezone(timezone.utc).isoformat(timespec="microseconds")


def line_halves(*, data: Any, event_id: str, job_id: str | None, service: str, ts: str, type: str,
                user_id: str | None, step: str | None) -> tuple[bytes, bytes]:
    """The canonical line of an event (`chained`) but for its seq, cut where the seq goes, so it
    can be made before the seq is known: `numbered(halves, seq)` is the line. Sorted, a line's
    keys run data, event_id, job_id | seq | service, step, ts, type, user_id, and compact JSON of
    sorted keys is the same text whether written at once or in two runs of keys."""
    after = {"service": service, "ts": ts, "type": type, "user_id": user_id}
    if step is not None:  # absent, not null, in events without one (event_line)
        after["step"] = step
    ids = _of_strings({"event_id": event_id, "job_id": job_id})  # apart from the data: scanned for no number
    return chained({"data": data})[:-1] + b"," + ids[1:-1] + b',"seq":', b"," + _of_strings(after)[1:]


def _of_strings(fields: dict[str, str | None]) -> bytes:
    """`canonical` of strings and nulls only: no number whose text could differ."""
    try:
        return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # a lone surrogate, which orjson refuses to write
        return canonical(fields)


def numbered(halves: tuple[bytes, bytes], seq: int) -> bytes:
    return b"%s%d%s" % (halves[0], seq, halves[1])


def encode_line(line: dict) -> bytes:
    return json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode()


def canonical(line: Mapping[str, Any]) -> bytes:
    """What an event's hash covers: its line without the hash, keys sorted, compact, as
    json.dumps writes it. orjson writes the same text three times faster; where its text could
    differ (a number it writes otherwise, a key that is not a string, an integer past 64 bits),
    json.dumps writes it."""
    unhashed = {k: v for k, v in line.items() if k != "hash"} if "hash" in line else line
    try:
        text = orjson.dumps(unhashed, option=orjson.OPT_SORT_KEYS)
        if not _may_differ(text):
            return text
    except TypeError:
        pass
    return json.dumps(unhashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _may_differ(orjson_text: bytes) -> bool:
    """Whether json.dumps may write this otherwise: a number with an exponent (orjson writes
    1e+16 and 1.5e-7, json 1.5e-07) or below 1e-4 (json 1e-05, orjson 0.00001). A string that
    looks so only costs the slower path. (NaN and Infinity, which orjson writes as null, are not
    JSON: the gateway refuses them and jsonb cannot hold them.) Plain finds: a regex took longer
    than the encoding."""
    if b".0000" in orjson_text:
        return True
    for sign in (b"e-", b"e+"):
        at = orjson_text.find(sign)
        while at > 0:
            if _in_number(orjson_text, at):
                return True
            at = orjson_text.find(sign, at + 2)
    return False


def _in_number(text: bytes, at: int) -> bool:
    """Whether the `e` at `at` ends a number's digits that follow a `:`, `,` or `[` (so not a
    uuid's, whose digits follow a quote, a hyphen or a letter)."""
    start = at
    while start > 0 and text[start - 1] in _DIGITS_AND_POINT:
        start -= 1
    if start == at:
        return False
    if text[start - 1] == ord("-"):
        start -= 1
    return start > 0 and text[start - 1] in b":,["


def chained(line: dict) -> bytes:
    """The canonical line of an event about to be written, its data as jsonb will give it back
    (`chain_form`, applied only when the text shows a number it could change)."""
    text = canonical(line)
    if b"e+" in text or b"-0.0" in text:
        line["data"] = chain_form(line["data"])
        text = canonical(line)
    return text


def with_hash(text: bytes, digest: bytes) -> bytes:
    """The canonical line with its hash added last: the line as the live fan-out sends it."""
    return text[:-1] + b',"hash":"' + digest.hex().encode() + b'"}'


def link(previous: bytes, line: Mapping[str, Any]) -> bytes:
    return linked(previous, canonical(line))


def linked(previous: bytes, text: bytes) -> bytes:
    """The hash of an event whose canonical line is `text`, after the event hashed `previous`."""
    return hashlib.sha256(previous + text).digest()


def chain_form(value: Any) -> Any:
    """`value` as it comes back from a jsonb column, so the line hashed when an event is written is
    the line read back later: Postgres keeps no negative zero, and writes an integral float as
    large as 1e16 without its exponent (read back as an int)."""
    if isinstance(value, float):
        if value == 0:
            return 0.0
        return int(value) if value.is_integer() and abs(value) >= 1e16 else value
    if isinstance(value, dict):
        return {k: chain_form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [chain_form(v) for v in value]
    return value


@dataclass(frozen=True)
class Verdict:
    """A stream's chain recomputed: how many events were checked, the head it reached, and the
    first seq that breaks it (None when the chain holds)."""
    events: int
    head: str
    first_bad_seq: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.first_bad_seq is None


class ChainCheck:
    """Recomputes a stream's chain line by line (rows in seq order, paged by the caller)."""

    def __init__(self) -> None:
        self.previous, self.expected_seq, self.events, self.bad = ZERO_HASH, 1, 0, None

    def feed(self, lines: Iterable[Mapping[str, Any]]) -> None:
        for line in lines:
            if self.bad is not None:
                return
            self.events += 1
            if line.get("hash") is None and line["seq"] == self.expected_seq and self.previous == ZERO_HASH:
                self.expected_seq += 1  # written before the chain began (migration 0019): the chain starts after
                continue
            if line["seq"] != self.expected_seq:
                self.bad = (self.expected_seq, f"seq {self.expected_seq} is missing (the next is {line['seq']})")
            elif line.get("hash") != link(self.previous, line).hex():
                self.bad = (line["seq"], "its content or hash was changed, or an event before it was removed")
            else:
                self.previous, self.expected_seq = bytes.fromhex(line["hash"]), self.expected_seq + 1

    def verdict(self, head: bytes | None, head_seq: int | None) -> Verdict:
        """The chain against the stream's head row: a log cut short ends before its head."""
        if self.bad is not None:
            return Verdict(self.events, self.previous.hex(), *self.bad)
        if head is not None and (bytes(head) != self.previous or head_seq != self.expected_seq - 1):
            return Verdict(self.events, self.previous.hex(), self.expected_seq,
                           f"the log ends at seq {self.expected_seq - 1}, its head is at seq {head_seq}")
        return Verdict(self.events, self.previous.hex())


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
        return (f"chunk {data.get('chunk_index')}: {data.get('output_words')}/{data.get('budget_words', data.get('target_words'))} words,"
                f" {'pass' if data.get('passed') else 'fail'}" + (f" ({data['reason']})" if data.get("reason") else ""))
    return " ".join(f"{k}={v}" for k, v in data.items() if not isinstance(v, (dict, list)) and len(str(v)) <= 120)


def text_line(line: dict) -> str:
    """One readable line: time, seq, service, type, the essentials."""
    return f"{line['ts']}  #{line['seq']:<6} {line['service']:<9} {line['type']:<20} " \
           f"{_essentials(line['type'], line['data'])}".rstrip()
