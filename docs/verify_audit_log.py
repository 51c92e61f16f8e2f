"""Checks a downloaded Longform audit log (NDJSON) offline: python verify_audit_log.py JOB.audit.ndjson
Each event's hash must be sha256(previous hash + its line without "hash", as compact JSON with
sorted keys); the first event's previous hash is 32 zero bytes; seqs run 1, 2, 3, ... Prints the
chain head (compare it with the one shown on the job's page) or the first seq that breaks."""
import hashlib, json, sys

previous, expected = bytes(32), 1
for number, text in enumerate(open(sys.argv[1], encoding="utf-8"), start=1):
    event = json.loads(text)
    claimed = event.pop("hash", None)
    line = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if event["seq"] != expected:
        sys.exit(f"broken at seq {expected}: it is missing (line {number} has seq {event['seq']})")
    if claimed != hashlib.sha256(previous + line).hexdigest():
        sys.exit(f"broken at seq {expected}: its content or hash was changed (line {number})")
    previous, expected = bytes.fromhex(claimed), expected + 1
print(f"intact: {expected - 1} events, head {previous.hex()}")
