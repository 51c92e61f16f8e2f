"""The outbox payload is built by hand from the envelope's fields (services/common/db.py), for
speed: it must be exactly what pydantic's `model_dump(mode="json")` of the same envelope gives,
the db.query's statements included, secrets still redacted."""

import uuid
from datetime import datetime, timezone

import orjson

from contracts.envelope import Envelope
from contracts.messages import ChunkProcessed, DbQueried
from contracts.redact import MASK, Redactor
from services.common.db import Database, Statement, Tx, _statements_data, as_sql_statements


class _Db(Database):
    def __init__(self) -> None:
        super().__init__(pool=None, service="generator")
        self.redactor = Redactor({"sk-very-secret-value"})


def test_db_query_data_is_what_the_model_dumps():
    statements = [Statement("SELECT 1 FROM generator.chunks WHERE token = $1", {"generator.chunks": "read"}, 1, 0.5,
                            None),
                  Statement("UPDATE generator.chunks SET x = 1", {"generator.chunks": "write"}, 3, 1.25,
                            "Boom: no", executions=3)]
    db = _Db()
    by_hand = _statements_data(statements, db.outbox_insert, 4)
    tx = Tx(None, db, uuid.uuid4(), None)
    tx.statements = statements
    assert by_hand == DbQueried(statements=tx.sql_statements(outbox_rows=4)).model_dump(mode="json")["statements"]
    assert by_hand[:2] == [s.model_dump(mode="json") for s in as_sql_statements(statements)]


def test_stored_payload_is_the_envelopes_json_with_secrets_redacted():
    db = _Db()
    tx = Tx(None, db, uuid.uuid4(), uuid.uuid4())
    envelope = Envelope.wrap(ChunkProcessed(chunk_index=3, budget_words=10, output_words=9, input_words=2,
                                            passed=False, attempts=1, reason="key sk-very-secret-value leaked"),
                             service="generator", job_id=tx.job_id, user_id=tx.user_id, step="chunk:3")
    stamp = datetime(2026, 12, 4, 19, 0, 1, 250000, tzinfo=timezone.utc)
    stored = orjson.loads(tx._stored(envelope, "2026-12-04T19:00:01.250000Z"))
    expected = envelope.model_copy(update={"occurred_at": stamp}).model_dump(mode="json")
    expected["data"]["reason"] = f"key {MASK} leaked"
    assert stored == expected
