"""Analysts' SQL: one read-only query of the documented views, judged by the engine.

No text is split or scanned in Python. Each call:
1. hands the text to ClickHouse as a query *parameter* of ``formatQuery()``: the engine
   parses it as exactly one statement (several, or a syntax error, are refused) and
   prints it back canonical, comments gone; printing that again must give the same text;
2. asks the engine for that statement's tree (``EXPLAIN AST``, parse only, nothing
   evaluated) and refuses, from the tree, anything but one SELECT/DESCRIBE/EXPLAIN of
   the views (``ledger.sql_ast``);
3. runs the canonical statement on the store's read-only connection, where the engine
   itself refuses writes, settings and file/URL/process table functions (``readonly = 1``
   for the session), and, on the embedded store, knows no table but the views. On a
   server, the analyst role's grants (migration 0007) limit the tables.
At most ``max_rows`` rows come back; ``truncated`` says when there were more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ledger.errors import StoreError
from ledger.sql_ast import Kind, SqlRefused, judge
from ledger.store import Selected, Store

MAX_ROWS = 100_000
MAX_SQL_CHARS = 64 * 1024

# Kept for callers that catch the old name: every refusal is a SqlRefused.
WriteRefused = SqlRefused

__all__ = ["MAX_ROWS", "SqlRefused", "SqlResult", "WriteRefused", "run_readonly"]


class ReadOnlyEngine(Protocol):
    def select(self, sql: str, params: Mapping[str, Any] | None) -> Selected: ...

    def lines(self, sql: str) -> list[str]: ...


@runtime_checkable
class OffersReadOnly(Protocol):
    def read_only(self) -> ReadOnlyEngine: ...


@dataclass(frozen=True)
class SqlResult:
    columns: list[str]  # as the engine names them; two columns may share a name
    rows: list[tuple[Any, ...]]
    truncated: bool  # the query had more than the rows returned

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts (a repeated column name keeps its last value)."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def run_readonly(store: Store, sql: str, max_rows: int = MAX_ROWS) -> SqlResult:
    """Run one analyst query; ``SqlRefused`` (one line, no wrapper) when it may not run."""
    if not isinstance(store, OffersReadOnly):
        raise SqlRefused("this store offers no read-only connection for SQL")
    engine = store.read_only()
    statement = _canonical(engine, _checked_text(sql))
    try:
        tree = engine.lines(f"EXPLAIN AST {statement}")
    except StoreError as exc:
        raise SqlRefused(engine_message(str(exc))) from exc
    kind = judge(tree, *_names(engine))
    if kind is Kind.SELECT:
        # As a subquery, nothing can follow it (no FORMAT, INTO OUTFILE, SETTINGS).
        statement = f"SELECT * FROM (\n{statement}\n) LIMIT {max_rows + 1}"
    selected = _engine(lambda: engine.select(statement, None))
    rows = selected.rows
    return SqlResult(selected.names, rows[:max_rows], truncated=len(rows) > max_rows)


def _checked_text(sql: str) -> str:
    if not sql.strip():
        raise SqlRefused("no SQL given")
    if len(sql) > MAX_SQL_CHARS:
        raise SqlRefused(f"the SQL has {len(sql)} characters; at most {MAX_SQL_CHARS}")
    if "\x00" in sql:
        raise SqlRefused("the SQL holds a NUL character")
    return sql


def _canonical(engine: ReadOnlyEngine, sql: str) -> str:
    """The one statement in ``sql`` as the engine prints it; refused if not exactly one."""
    first = _format(engine, sql)
    if _format(engine, first) != first:
        raise SqlRefused("the engine does not read this statement the same way twice")
    return first


def _format(engine: ReadOnlyEngine, sql: str) -> str:
    selected = _engine(lambda: engine.select("SELECT formatQuery({q:String})", {"q": sql}))
    return str(selected.rows[0][0])


def _names(engine: ReadOnlyEngine) -> tuple[list[str], list[str]]:
    """The engine's databases, and its other names for the functions refused by name."""
    try:
        databases = engine.select("SELECT name FROM system.databases", None).rows
        aliases = engine.select(
            "SELECT name FROM system.functions WHERE alias_to != '' AND lower(alias_to) IN "
            "('file', 'joinget', 'joingetornull', 'catboostevaluate', 'getserversetting')",
            None,
        ).rows
    except StoreError:
        # A server user without access to system tables: the names every server has.
        return list(_ALWAYS_THERE), []
    return [str(d[0]) for d in databases], [str(a[0]) for a in aliases]


_ALWAYS_THERE = ("system", "information_schema", "INFORMATION_SCHEMA", "default")


def _engine(call: Any) -> Selected:
    try:
        result: Selected = call()
    except StoreError as exc:
        raise SqlRefused(engine_message(str(exc))) from exc
    return result


_EXCEPTION = re.compile(r"DB::(?:Errno)?Exception: ")
_CODE_NAME = re.compile(r"\(([A-Z_]+)\)")
_NOISE = re.compile(
    r"\(version [^)]*\)|:? ?In scope .*|Maybe you meant [^?]*\?|\([A-Z_]+\)|Code: \d+\."
)


def engine_message(text: str) -> str:
    """ClickHouse's reason, on one line, without the wrappers and echoes around it."""
    flat = " ".join(text.split())
    names = _CODE_NAME.findall(flat)
    reason = _NOISE.sub("", _EXCEPTION.split(flat)[-1])
    reason = " ".join(reason.split()).rstrip(" .:")
    if len(reason) > 300:
        reason = reason[:300] + "..."
    return f"refused by ClickHouse: {reason}" + (f" ({names[-1]})" if names else "")
