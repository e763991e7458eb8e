"""The embedded store's read-only connection for analysts' SQL.

chDB has no users or grants (only the built-in ``default`` user), so the engine is
made the boundary another way, each part checked by experiment on chDB 4.4:
- a connection of its own whose session sets ``readonly = 1`` last: from then on the
  engine refuses writes, DDL, ``SET``, every ``SETTINGS`` clause and the table
  functions file/url/s3/executable/... for every statement on that connection;
- its current database holds nothing but the documented views (an in-memory database
  whose views select from the store's): an unqualified name that is not a view is an
  unknown table to the engine; qualified names are refused by ``ledger.sql_ast``.
What ``readonly`` does not stop (the scalar ``file()`` function reads any path, ``INTO
OUTFILE`` writes one, ``KILL QUERY`` runs) is refused from the engine's parse before
anything runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from chdb.state.sqlitelike import Connection

from ledger import json_results
from ledger.errors import StoreError, from_engine
from ledger.params import for_embedded
from ledger.store import Selected

VIEWS = ("v_session_timeline", "v_payment_attempts", "v_participation")
MAX_EXECUTION_SECONDS = 60


class EmbeddedReadOnly:
    """A read-only chDB connection whose current database holds only the views."""

    def __init__(self, path: Path, database: str, execute: Callable[[str], None]) -> None:
        self.views_database = f"{database}_analyst"
        # The owner's connection builds the views' database: Memory keeps the views out
        # of the store directory (only the database's one-line definition lands there).
        execute(f"CREATE DATABASE IF NOT EXISTS {self.views_database} ENGINE = Memory")
        for view in VIEWS:
            execute(
                f"CREATE OR REPLACE VIEW {self.views_database}.{view} "
                f"AS SELECT * FROM {database}.{view}"
            )
        self._lock = threading.Lock()
        self._conn: Any = None
        try:
            self._conn = Connection(str(path))
        except RuntimeError as exc:
            raise from_engine(str(exc), "cannot open a read-only connection") from exc
        try:
            self._set_up()
        except StoreError:
            self.close()
            raise

    def _set_up(self) -> None:
        for statement in (
            f"USE {self.views_database}",
            f"SET {json_results.OUTPUT_SETTINGS}",
            f"SET max_execution_time = {MAX_EXECUTION_SECONDS}",
            "SET readonly = 1",
        ):
            self._run(statement, None)
        if self.select("SELECT getSetting('readonly')", None).rows != [(1,)]:
            raise StoreError("the analyst connection did not become read-only; refusing SQL")
        self._check_views_only()

    def _check_views_only(self) -> None:
        # Whatever else this database held would be reachable by an unqualified name.
        found = self.select(
            "SELECT engine, arraySort(groupArray(t.name)) FROM system.databases AS d "
            "LEFT JOIN system.tables AS t ON t.database = d.name "
            "WHERE d.name = {db:String} GROUP BY engine",
            {"db": self.views_database},
        ).rows
        if found != [("Memory", sorted(VIEWS))]:
            raise StoreError(
                f"database {self.views_database} holds more than the analyst views "
                f"({found}); it is made by this program for analysts' SQL: drop it "
                f"(DROP DATABASE {self.views_database}) and run again"
            )

    def _run(self, sql: str, params: Mapping[str, Any] | None) -> bytes:
        with self._lock:
            if self._conn is None:
                raise StoreError("the read-only connection is closed")
            try:
                result = self._conn.query(sql, "JSONCompact", params=for_embedded(params))
            except RuntimeError as exc:
                raise from_engine(str(exc), "chDB query failed") from exc
            return bytes(result.bytes())

    def select(self, sql: str, params: Mapping[str, Any] | None) -> Selected:
        result = json_results.decode(self._run(sql, params))
        return Selected(result.names, result.rows)

    def lines(self, sql: str) -> list[str]:
        """A one-column result, one escaped value per row (``EXPLAIN AST``: one node a row)."""
        with self._lock:
            if self._conn is None:
                raise StoreError("the read-only connection is closed")
            try:
                result = self._conn.query(sql, "TSV")
            except RuntimeError as exc:
                raise from_engine(str(exc), "chDB query failed") from exc
            return bytes(result.bytes()).decode("utf-8", "replace").splitlines()

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
