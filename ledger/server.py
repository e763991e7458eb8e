"""ServerStore: the trail on a ClickHouse server, over the native protocol (clickhouse-driver).

URL: ``clickhouse://user:password@host:9000/audit`` (``clickhouses://`` for TLS; the
path is the database, ``audit`` when absent). Query parameters travel to the server
apart from the SQL (``server_side_params``). Connection failures and overload become
``StoreUnavailable`` (retry with backoff); refused statements ``QueryRejected``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from clickhouse_driver import Client
from clickhouse_driver.errors import Error as DriverError
from clickhouse_driver.errors import NetworkError, SocketTimeoutError
from clickhouse_driver.util.helpers import parse_url

from ledger.columns import Column
from ledger.errors import TRANSIENT_CODES, QueryRejected, StoreError, StoreUnavailable
from ledger.params import for_driver
from ledger.store import Selected, SqlStore, check_database

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _driver_error(exc: Exception, what: str) -> StoreError:
    code = getattr(exc, "code", None)
    text = f"{what}: {exc}"
    if isinstance(exc, NetworkError | SocketTimeoutError | OSError | EOFError):
        return StoreUnavailable(text, code=code)
    if code in TRANSIENT_CODES:
        return StoreUnavailable(text, code=code)
    return QueryRejected(text, code=code)


def _micros(value: Any) -> Any:
    # The driver turns datetimes into float timestamps (off by up to 1 us far from 1970,
    # wrong before it); integer microseconds go through untouched.
    if isinstance(value, datetime):
        delta = (value if value.tzinfo else value.replace(tzinfo=UTC)) - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return value


class ServerStore(SqlStore):
    """The trail on a ClickHouse server (or cluster front) reached by URL."""

    backend = "server"

    def __init__(self, url: str) -> None:
        host, kwargs = parse_url(url)
        self.database = check_database(kwargs.pop("database", None) or "audit")
        settings = dict(kwargs.pop("settings", None) or {})
        settings["server_side_params"] = True
        self._host = host
        self._kwargs = {**kwargs, "settings": settings}
        self._lock = threading.Lock()
        self._client: Any = Client(host, database=self.database, **self._kwargs)
        self._read_only: ServerReadOnly | None = None

    def _call(self, what: str, sql: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            try:
                return self._client.execute(sql, *args, **kwargs)
            except (DriverError, OSError, EOFError) as exc:
                raise _driver_error(exc, what) from exc

    def migrate(self) -> list[str]:
        # The database must exist before a connection may name it: create it from the
        # user's default database first.
        bootstrap: Any = Client(self._host, **self._kwargs)
        try:
            bootstrap.execute(f"CREATE DATABASE IF NOT EXISTS {self.database}")
        except (DriverError, OSError, EOFError) as exc:
            raise _driver_error(exc, f"cannot create database {self.database}") from exc
        finally:
            bootstrap.disconnect()
        return super().migrate()

    def _execute(self, sql: str) -> None:
        self._call("statement failed", sql)

    def _select(self, sql: str, params: Mapping[str, Any] | None) -> Selected:
        rows, columns = self._call("query failed", sql, for_driver(params), with_column_types=True)
        return Selected([name for name, _type in columns], [tuple(row) for row in rows])

    def _insert(
        self, table: str, columns: Sequence[Column], rows: Sequence[tuple[Any, ...]], token: str
    ) -> None:
        times = [i for i, c in enumerate(columns) if "DateTime64" in c.type]
        data = [tuple(_micros(v) if i in times else v for i, v in enumerate(row)) for row in rows]
        names = ", ".join(c.name for c in columns)
        settings: dict[str, Any] = (
            {
                "insert_deduplication_token": token,
                "deduplicate_blocks_in_dependent_materialized_views": 1,
            }
            if token
            else {}
        )
        self._call(
            f"insert into {table} failed",
            f"INSERT INTO {table} ({names}) VALUES",
            data,
            settings=settings,
        )

    def ping(self) -> None:
        self._call("ping failed", "SELECT 1")

    def read_only(self) -> ServerReadOnly:
        """The connection analysts' SQL runs on: ``readonly = 1`` on every query it sends."""
        if self._read_only is None:
            self._read_only = ServerReadOnly(self._host, self.database, self._kwargs)
        return self._read_only

    def close(self) -> None:
        if self._read_only is not None:
            self._read_only.close()
            self._read_only = None
        with self._lock:
            self._client.disconnect()


class ServerReadOnly:
    """A second connection for analysts' SQL: the server enforces ``readonly = 1`` and a
    time limit on each query (a query's own SETTINGS cannot lift them: the server
    refuses to change settings in readonly mode). Which tables it reaches is the
    connecting user's grants: give analysts the ``audit_analyst`` role (migration 0007).
    """

    def __init__(self, host: str, database: str, kwargs: dict[str, Any]) -> None:
        settings = {**kwargs.get("settings", {}), "readonly": 1, "max_execution_time": 60}
        self._lock = threading.Lock()
        self._client: Any = Client(host, database=database, **{**kwargs, "settings": settings})

    def select(self, sql: str, params: Mapping[str, Any] | None) -> Selected:
        with self._lock:
            try:
                rows, columns = self._client.execute(
                    sql, for_driver(params), with_column_types=True
                )
            except (DriverError, OSError, EOFError) as exc:
                raise _driver_error(exc, "read-only query failed") from exc
        return Selected([name for name, _type in columns], [tuple(row) for row in rows])

    def lines(self, sql: str) -> list[str]:
        # One row per line of EXPLAIN AST; a name's line break stays inside its row.
        return [
            str(row[0]).replace("\\", "\\\\").replace("\n", "\\n")
            for row in self.select(sql, None).rows
        ]

    def close(self) -> None:
        with self._lock:
            self._client.disconnect()
