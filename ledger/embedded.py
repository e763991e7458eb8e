"""EmbeddedStore: the trail in chDB, the ClickHouse engine inside this process.

Limits of chDB 4.4 this adapter lives with (checked by running it):
- One engine per process, bound to one directory until every connection to it closes;
  opening another path meanwhile fails (``EmbeddedPathInUse``), and so does any
  stateless ``chdb.query()`` (it wants ``:memory:``). Connections to the same path
  may coexist. A second process cannot open a directory that one process holds.
- Query parameters are passed through as text that ClickHouse parses in its escaped
  format, so ``ledger.params`` renders them; ``SET``/``USE`` state is per connection.
- ``insert_deduplication_token`` works on a plain MergeTree once the table sets
  ``non_replicated_deduplication_window``; the dedup log survives a reopen.

One connection for statements that change things, used under a lock: chDB runs one
statement at a time per connection. Reads borrow from a few more (``embedded_pool``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chdb.state.sqlitelike import Connection

from ledger import json_results
from ledger.arrow_rows import arrow_stream
from ledger.columns import Column
from ledger.embedded_pool import READ_CONNECTIONS, ReadPool
from ledger.embedded_readonly import EmbeddedReadOnly
from ledger.errors import (
    EmbeddedPathInUse,
    StoreNotReady,
    StoreUnavailable,
    code_in,
    from_engine,
)
from ledger.params import for_embedded
from ledger.store import Selected, SqlStore, check_database
from schemas import InvalidInput


class EmbeddedStore(SqlStore):
    """The trail in a chDB directory; this process must be the only one using it."""

    def __init__(
        self,
        path: Path,
        database: str = "audit",
        *,
        create: bool = True,
        read_connections: int = READ_CONNECTIONS,
    ) -> None:
        self.path = Path(path)
        self.database = check_database(database)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._read_only: EmbeddedReadOnly | None = None
        self._reads: ReadPool | None = None  # until the database is known to exist
        try:
            self._conn: Any = Connection(str(self.path))
        except RuntimeError as exc:
            raise _open_error(str(exc), self.path) from exc
        # The owner of the directory may create its database; a reader (create=False)
        # runs no DDL and is told to migrate when there is nothing to read.
        if create:
            self._execute(f"CREATE DATABASE IF NOT EXISTS {self.database}")
        elif not self.query(
            "SELECT count() FROM system.databases WHERE name = {d:String}", {"d": self.database}
        )[0][0]:
            self.close()
            raise StoreNotReady(
                f"the embedded store at {self.path} has no database {self.database!r}: "
                "run `audit-trail migrate` (or `audit-trail consume`) first"
            )
        self._execute(f"USE {self.database}")
        self._execute(f"SET {json_results.OUTPUT_SETTINGS}")
        if read_connections > 0:
            self._reads = ReadPool(str(self.path), self._prepare, read_connections)

    def _prepare(self, conn: Any) -> None:
        """A read connection in the state of the store's own."""
        try:
            conn.query(f"USE {self.database}")
            conn.query(f"SET {json_results.OUTPUT_SETTINGS}")
        except RuntimeError as exc:
            raise from_engine(str(exc), "chDB read connection failed") from exc

    def _live(self) -> Any:
        if self._conn is None:
            raise InvalidInput(f"the embedded store at {self.path} is closed")
        return self._conn

    def _run(self, sql: str, params: Mapping[str, Any] | None) -> bytes:
        rendered = for_embedded(params)
        with self._lock:
            try:
                result = self._live().query(sql, "JSONCompact", params=rendered)
            except RuntimeError as exc:
                raise from_engine(str(exc), "chDB query failed") from exc
            return bytes(result.bytes())

    def _execute(self, sql: str) -> None:
        self._run(sql, None)

    def _select(self, sql: str, params: Mapping[str, Any] | None) -> Selected:
        if self._reads is None:
            raw = self._run(sql, params)
        else:
            self._live()  # a closed store says so, whichever connection would answer
            rendered = for_embedded(params)

            def use(conn: Any) -> bytes:
                try:
                    return bytes(conn.query(sql, "JSONCompact", params=rendered).bytes())
                except RuntimeError as exc:
                    raise from_engine(str(exc), "chDB query failed") from exc

            raw = self._reads.run(use)
        result = json_results.decode(raw)
        return Selected(result.names, result.rows)

    def _insert(
        self, table: str, columns: Sequence[Column], rows: Sequence[tuple[Any, ...]], token: str
    ) -> None:
        try:
            data = arrow_stream(columns, rows)
        except (ValueError, TypeError) as exc:  # pyarrow's ArrowInvalid / ArrowTypeError
            raise InvalidInput(f"rows do not fit the {table} columns: {exc}") from exc
        names = ", ".join(c.name for c in columns)
        # The token passed check_token: only characters that need no quoting.
        # The token also deduplicates what materialized views (trail_links) derive.
        settings = (
            f" SETTINGS insert_deduplication_token = '{token}', "
            "deduplicate_blocks_in_dependent_materialized_views = 1"
            if token
            else ""
        )
        with self._lock:
            try:
                with self._live().send_insert(
                    f"INSERT INTO {table} ({names}){settings}", "ArrowStream"
                ) as inserter:
                    inserter.append(data)
                    inserter.finish()
            except RuntimeError as exc:
                raise from_engine(str(exc), f"chDB insert into {table} failed") from exc

    def ping(self) -> None:
        self._run("SELECT 1", None)

    def read_only(self) -> EmbeddedReadOnly:
        """The connection analysts' SQL runs on (``ledger.embedded_readonly``)."""
        if self._read_only is None:
            self._live()
            self._read_only = EmbeddedReadOnly(self.path, self.database, self._execute)
        return self._read_only

    def close(self) -> None:
        if self._reads is not None:
            self._reads.close()
        if self._read_only is not None:
            self._read_only.close()
            self._read_only = None
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _open_error(message: str, path: Path) -> Exception:
    if "cannot connect with different path" in message:
        return EmbeddedPathInUse(
            f"cannot open {path}: this process already runs chDB on another directory "
            f"(one path per process; close every store first). {message}",
            code=code_in(message),
        )
    return StoreUnavailable(
        f"cannot open the embedded store at {path}; is another process using it? {message}",
        code=code_in(message),
    )
