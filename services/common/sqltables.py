"""Which tables a statement touches, and how (read or write), for the audit of SQL.

Every table in Longform lives in its service's schema and is always named schema-qualified, so
only `schema.table` names count: that keeps function calls (`FROM now()`), columns
(`extract(epoch FROM created_at)`) and row-lock clauses (`FOR UPDATE SKIP LOCKED`) out."""

import re

_NAME = r'("?[a-z_][\w]*"?\."?[a-z_][\w]*"?)'
_WRITES = re.compile(rf"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+{_NAME}", re.I)
_READS = re.compile(rf"\b(?:FROM|JOIN)\s+{_NAME}", re.I)


def tables_touched(sql: str) -> dict[str, str]:
    """Map each table named in `sql` to "write" or "read" (a table both read and written is "write")."""
    touched: dict[str, str] = {}
    for match in _READS.finditer(sql):
        touched[match.group(1).replace('"', "")] = "read"
    for match in _WRITES.finditer(sql):
        touched[match.group(1).replace('"', "")] = "write"
    return touched


def rows_from_status(status: str) -> int | None:
    """Rows affected, from a command status like 'INSERT 0 3' or 'UPDATE 2'."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else None
