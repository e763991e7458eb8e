"""Analysts' SQL: read-only, one statement, refused with a clear reason otherwise.

Two locks: the text must be a single SELECT (or WITH ... SELECT), and it runs as a
subquery under ``readonly = 1``, so even a statement that slipped past the first check
cannot write, change settings or touch files. On a server, the analyst role's grants
are the third lock (migration 0008).
"""

from __future__ import annotations

import re
from typing import Any

from ledger.migrations import split_statements
from ledger.store import Store
from schemas import InvalidInput

_FIRST_WORD = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*([A-Za-z]+)", re.S)
_ALLOWED = {"SELECT", "WITH"}
MAX_ROWS = 100_000


class WriteRefused(InvalidInput):
    """The SQL would write, change the schema, or is not a single query."""


def guarded(sql: str) -> str:
    """The query wrapped so that ClickHouse itself refuses anything but reading."""
    statements = [s for s in split_statements(sql) if s.strip()]
    if len(statements) != 1:
        raise WriteRefused(f"one statement at a time, got {len(statements)}")
    statement = statements[0].strip().rstrip(";")
    match = _FIRST_WORD.match(statement)
    word = match[1].upper() if match else ""
    if word not in _ALLOWED:
        raise WriteRefused(
            f"read-only: only SELECT queries are allowed, got {word or 'nothing'}; "
            "writes and DDL go through migrations and the consumer, never through sql"
        )
    if re.search(r"\bINTO\s+OUTFILE\b", statement, re.I):
        raise WriteRefused("read-only: INTO OUTFILE writes a file")
    return (
        f"SELECT * FROM (\n{statement}\n) LIMIT {MAX_ROWS} "
        "SETTINGS readonly = 1, max_execution_time = 60"
    )


def run_readonly(store: Store, sql: str) -> list[dict[str, Any]]:
    return store.query_dicts(guarded(sql))
