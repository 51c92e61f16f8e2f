"""Which tables a statement touches (read or write) and how many rows it affected, for the SQL audit."""

import pytest

from services.common.sqltables import rows_from_status, tables_touched


def test_select_reports_its_from_and_join_tables_as_read_with_their_schema():
    sql = """
        SELECT j.id, s.status FROM gateway.jobs j
        LEFT JOIN audit.job_state s ON s.job_id = j.id
        JOIN gateway.users u ON u.id = j.user_id
        WHERE j.user_id = $1 ORDER BY j.created_at DESC
    """
    assert tables_touched(sql) == {"gateway.jobs": "read", "audit.job_state": "read", "gateway.users": "read"}


def test_quoted_table_names_are_reported_without_quotes():
    assert tables_touched('UPDATE "planner"."chunks" SET status = $1') == {"planner.chunks": "write"}


def test_only_schema_qualified_names_count_as_tables():
    # Every Longform table is named schema.table; a bare word after FROM is a function or a column.
    assert tables_touched("select * from jobs") == {}
    assert tables_touched("SELECT now() FROM gateway.jobs") == {"gateway.jobs": "read"}


def test_insert_into_reports_the_table_as_written():
    sql = "INSERT INTO gateway.users (id, name, token_hash) VALUES ($1, $2, $3)"
    assert tables_touched(sql) == {"gateway.users": "write"}


def test_update_reports_its_table_as_written_and_never_the_set_keyword():
    touched = tables_touched("UPDATE assembler.documents SET words = $2 WHERE job_id = $1")
    assert touched == {"assembler.documents": "write"}
    assert not any(name.lower() == "set" for name in touched)


def test_delete_from_reports_the_table_as_written_not_read():
    assert tables_touched("DELETE FROM planner.chunks WHERE job_id = $1") == {"planner.chunks": "write"}


def test_insert_select_writes_one_schema_and_reads_another():
    sql = (
        "INSERT INTO assembler.documents (job_id, body, words, chunks, round)"
        " SELECT $1, string_agg(text, E'\\n\\n' ORDER BY chunk_index), sum(words), count(*), $2"
        " FROM generator.chunks WHERE job_id = $1 HAVING count(*) > 0"
        " ON CONFLICT (job_id) DO UPDATE SET body = excluded.body, words = excluded.words"
        " RETURNING chunks"
    )
    assert tables_touched(sql) == {"assembler.documents": "write", "generator.chunks": "read"}


def test_on_conflict_do_update_set_writes_only_the_inserted_table():
    sql = (
        "INSERT INTO audit.stream_heads (stream_id, last_seq) VALUES ($1, 1) ON CONFLICT (stream_id)"
        " DO UPDATE SET last_seq = audit.stream_heads.last_seq + 1 RETURNING last_seq"
    )
    assert tables_touched(sql) == {"audit.stream_heads": "write"}


def test_on_conflict_do_nothing_writes_only_the_inserted_table():
    sql = "INSERT INTO generator.chunks (job_id, chunk_index) VALUES ($1,$2) ON CONFLICT (job_id, chunk_index) DO NOTHING"
    assert tables_touched(sql) == {"generator.chunks": "write"}


def test_a_table_both_read_and_written_is_reported_as_written():
    sql = "UPDATE planner.chunks SET status = 'dispatched' WHERE chunk_index IN (SELECT chunk_index FROM planner.chunks)"
    assert tables_touched(sql) == {"planner.chunks": "write"}


@pytest.mark.parametrize("function", ["unnest($1::int[])", "generate_series(1, 10)", "jsonb_to_recordset($1)"])
def test_set_returning_functions_are_not_tables(function):
    sql = f"INSERT INTO planner.chunks (chunk_index) SELECT x FROM {function} AS t(x)"
    assert tables_touched(sql) == {"planner.chunks": "write"}


def test_subquery_in_from_is_not_a_table_but_its_own_from_is():
    sql = "SELECT count(*) FROM (SELECT 1 FROM audit.events WHERE seq > $1) AS recent"
    assert tables_touched(sql) == {"audit.events": "read"}


def test_truncate_reports_a_write():
    assert tables_touched("TRUNCATE TABLE audit.job_state") == {"audit.job_state": "write"}


def test_statements_without_tables_touch_nothing():
    assert tables_touched("SELECT 1") == {}
    assert tables_touched("BEGIN") == {}


def test_trailing_for_update_is_not_a_write():
    sql = "SELECT * FROM planner.plans WHERE job_id = $1 FOR UPDATE"
    assert tables_touched(sql) == {"planner.plans": "read"}


@pytest.mark.parametrize("lock", ["FOR UPDATE SKIP LOCKED", "FOR UPDATE NOWAIT", "FOR UPDATE OF o"])
def test_row_lock_clauses_are_not_reported_as_written_tables(lock):
    sql = f"SELECT id, payload FROM planner.outbox o WHERE published_at IS NULL ORDER BY id LIMIT 100 {lock}"
    assert tables_touched(sql) == {"planner.outbox": "read"}


@pytest.mark.parametrize("expression", [
    "extract(epoch FROM now() - created_at)",
    "substring(data->>'sql' FROM 1 FOR 80)",
    "status IS DISTINCT FROM previous",
])
def test_from_inside_an_expression_is_not_a_table(expression):
    assert tables_touched(f"SELECT {expression} FROM audit.events") == {"audit.events": "read"}


@pytest.mark.parametrize("status, rows", [
    ("INSERT 0 3", 3),
    ("UPDATE 2", 2),
    ("SELECT 5", 5),
    ("DELETE 0", 0),
    ("COPY 1000", 1000),
    ("MERGE 7", 7),
])
def test_rows_affected_are_read_from_the_command_status(status, rows):
    assert rows_from_status(status) == rows


@pytest.mark.parametrize("status", ["BEGIN", "COMMIT", "CREATE TABLE", "SET", ""])
def test_a_command_status_without_a_row_count_gives_none(status):
    assert rows_from_status(status) is None
