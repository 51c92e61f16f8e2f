"""Which tables a statement touches, and how (read or write), for the audit of SQL."""

import re

_NAME = r'("?[\w]+"?(?:\."?[\w]+"?)?)'
_WRITES = re.compile(rf"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+{_NAME}", re.I)
_READS = re.compile(rf"\b(?:FROM|JOIN)\s+{_NAME}", re.I)
_NOT_TABLES = {"unnest", "generate_series", "lateral", "select", "set", "jsonb_to_recordset"}


def tables_touched(sql: str) -> dict[str, str]:
    """Map each table named in `sql` to "write" or "read" (a table both read and written is "write")."""
    touched: dict[str, str] = {}
    for match in _READS.finditer(sql):
        name = match.group(1).replace('"', "")
        if name.lower() not in _NOT_TABLES:
            touched[name] = "read"
    for match in _WRITES.finditer(sql):
        name = match.group(1).replace('"', "")
        if name.lower() not in _NOT_TABLES:
            touched[name] = "write"
    return touched


def rows_from_status(status: str) -> int | None:
    """Rows affected, from a command status like 'INSERT 0 3' or 'UPDATE 2'."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else None
