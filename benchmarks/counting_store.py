"""A Store that reports each stored batch: the benchmark's only hook into the consumer."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ledger import ChainHead, Store


class CountingStore:
    """Delegates to ``inner``; after each trail insert calls ``on_stored(rows_so_far, t)``."""

    def __init__(self, inner: Store, on_stored: Callable[[int, float], None]) -> None:
        self.inner = inner
        self.rows = 0
        self._on_stored = on_stored

    def insert_trail(self, rows: Sequence[tuple[Any, ...]], dedup_token: str) -> None:
        self.inner.insert_trail(rows, dedup_token)
        self.rows += len(rows)
        self._on_stored(self.rows, time.time())

    def migrate(self) -> list[str]:
        return self.inner.migrate()

    def insert_checkpoints(
        self, heads: Sequence[ChainHead], created_at: datetime | None = None
    ) -> None:
        self.inner.insert_checkpoints(heads, created_at)

    def chain_heads(self, topic: str) -> dict[int, ChainHead]:
        return self.inner.chain_heads(topic)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self.inner.query(sql, params)

    def query_dicts(
        self, sql: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        return self.inner.query_dicts(sql, params)

    def ping(self) -> None:
        self.inner.ping()

    def close(self) -> None:
        self.inner.close()
