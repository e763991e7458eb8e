"""The whole store interface, and what both backends share.

``Store`` is the union of the narrow parts in ``ledger.store_parts``, for callers that
need everything; give each user the narrowest part instead. ``SqlStore`` implements it
once in terms of four primitives each backend adapter provides (run a statement, select,
insert rows, ping), so the SQL is the same on chDB and on a ClickHouse server.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ledger import idempotency, migrations, segments
from ledger.chain import ChainHead
from ledger.columns import COLUMNS, Column
from ledger.store_parts import ChainHeads, EventIndex, StoreAdmin, TrailAppend, TrailQueries
from schemas import InvalidInput

# Tokens reach SQL as a setting value: keep them to characters that need no quoting.
_TOKEN = re.compile(r"^[A-Za-z0-9._:/@=+-]{1,256}$")
_DATABASE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

CHECKPOINT_COLUMNS = (
    Column("topic", "LowCardinality(String)"),
    Column("partition", "UInt16"),
    Column("offset", "UInt64"),
    Column("row_hash", "String"),
    Column("created_at", "DateTime64(6, 'UTC')"),
)

# The later of the trail's own last row and the chain's links' last row. The trail wins
# after a crash between the trail's part and the view's part (the links lag behind);
# the links win once retention removed a partition's newest rows (so they are not
# ingested again).
CHAIN_HEADS_SQL = """
SELECT kafka_partition, max(o), argMax(h, o) FROM (
    SELECT kafka_partition, max(kafka_offset) AS o, argMax(row_hash, kafka_offset) AS h
    FROM trail WHERE kafka_topic = {topic:String} GROUP BY kafka_partition
    UNION ALL
    SELECT kafka_partition, max(kafka_offset) AS o, argMax(row_hash, kafka_offset) AS h
    FROM trail_links WHERE kafka_topic = {topic:String} GROUP BY kafka_partition
) GROUP BY kafka_partition
"""


class Store(TrailAppend, ChainHeads, EventIndex, TrailQueries, StoreAdmin, Protocol):
    """Where the trail lives. Implementations: EmbeddedStore (chDB), ServerStore."""


# Which of some ids a topic holds, in the trail or in its chain links (which outlive the
# rows retention removed).
KNOWN_IDS_SQL = """SELECT DISTINCT toString(event_id) FROM trail_links
WHERE kafka_topic = {topic:String} AND event_id IN {ids:Array(UUID)}
UNION DISTINCT
SELECT DISTINCT toString(event_id) FROM trail
WHERE kafka_topic = {topic:String} AND event_id IN {ids:Array(UUID)}"""


@dataclass(frozen=True)
class Selected:
    names: list[str]
    rows: list[tuple[Any, ...]]


def check_database(name: str) -> str:
    if not _DATABASE.match(name):
        raise InvalidInput(f"database name {name!r} is not a plain identifier")
    return name


def check_token(token: str) -> str:
    if not _TOKEN.match(token):
        raise InvalidInput(
            f"dedup token {token!r}: use 1-256 of A-Z a-z 0-9 . _ : / @ = + - "
            "(e.g. topic:partition:first-last)"
        )
    return token


class SqlStore(ABC):
    """Implements ``Store`` on top of a backend's primitives."""

    database: str
    backend: str = "embedded"  # which migrations apply (see Migration.backends)

    @abstractmethod
    def _execute(self, sql: str) -> None:
        """Run one statement that returns nothing (DDL), in the store's database."""

    @abstractmethod
    def _select(self, sql: str, params: Mapping[str, Any] | None) -> Selected:
        """Run one statement with server-side parameters; its column names and rows."""

    @abstractmethod
    def _insert(
        self, table: str, columns: Sequence[Column], rows: Sequence[tuple[Any, ...]], token: str
    ) -> None:
        """One INSERT of ``rows``; a non-empty ``token`` is its insert_deduplication_token."""

    @abstractmethod
    def ping(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def migrate(self) -> list[str]:
        return migrations.apply(self._execute, self.query, backend=self.backend)

    def insert_trail(self, rows: Sequence[tuple[Any, ...]], dedup_token: str) -> None:
        check_token(dedup_token)
        for row in rows:
            if len(row) != len(COLUMNS):
                raise InvalidInput(
                    f"trail rows have {len(COLUMNS)} columns (hashes included), got {len(row)}"
                )
        if rows:
            self._insert("trail", COLUMNS, rows, dedup_token)

    def insert_checkpoints(
        self, heads: Sequence[ChainHead], created_at: datetime | None = None
    ) -> None:
        at = created_at or datetime.now(UTC)
        rows = [(h.topic, h.partition, h.offset, h.row_hash, at) for h in heads if h.offset >= 0]
        if rows:
            self._insert("chain_checkpoints", CHECKPOINT_COLUMNS, rows, "")

    def chain_heads(self, topic: str) -> dict[int, ChainHead]:
        return {
            int(partition): ChainHead(topic, int(partition), int(offset), str(row_hash))
            for partition, offset, row_hash in self.query(CHAIN_HEADS_SQL, {"topic": topic})
        }

    def chain_segments(self, topic: str) -> dict[int, segments.ChainSegment]:
        return segments.current_segments(self, topic)

    def record_segments(self, recorded: Sequence[segments.ChainSegment]) -> None:
        segments.record_segments(self, list(recorded))

    def first_copies(
        self, event_ids: Sequence[str], since: datetime
    ) -> dict[str, idempotency.StoredEvent]:
        return idempotency.first_copies(self, event_ids, since)

    def stored_event_ids(self, topic: str, event_ids: Sequence[str]) -> set[str]:
        ids = sorted(set(event_ids))
        if not ids:
            return set()
        return {str(row[0]) for row in self.query(KNOWN_IDS_SQL, {"topic": topic, "ids": ids})}

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self._select(sql, params).rows

    def execute(self, sql: str) -> None:
        self._execute(sql)

    def query_dicts(
        self, sql: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        selected = self._select(sql, params)
        return [dict(zip(selected.names, row, strict=True)) for row in selected.rows]

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
