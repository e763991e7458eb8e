"""The store's interface, in parts: each user takes the narrowest part it needs.

- ``TrailAppend``: the trail rows of one insert, with their insert dedup token.
- ``ChainHeads``: where each partition's chain ends, its segments, its checkpoints.
- ``EventIndex``: which event ids the trail holds already (idempotency, erasure records).
- ``TrailQueries``: parameterised SELECTs, for readers, verify and the ledger's own verbs.
- ``StoreAdmin``: migrations, admin statements, liveness, closing.

``TrailSink`` (append + heads) is what ``ledger.trail_writer.TrailWriter`` writes to;
``ledger.store.Store`` is the union, for callers that need everything. Data keys have
their own part, ``ledger.privacy.KeyStore``. The ClickHouse SQL behind all of them lives
in ``ledger.store.SqlStore`` and the modules it calls, never in their users.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ledger.chain import ChainHead
from ledger.rows import Row

if TYPE_CHECKING:
    from ledger.idempotency import StoredEvent
    from ledger.segments import ChainSegment


class TrailAppend(Protocol):
    def insert_trail(self, rows: Sequence[Row], dedup_token: str) -> None:
        """One insert of linked rows (hashes included), all of one month. The same token
        twice: the second insert is dropped (a retry after a crash or a lost answer)."""
        ...


class ChainHeads(Protocol):
    def chain_heads(self, topic: str) -> dict[int, ChainHead]:
        """Each partition's last stored offset and row hash."""
        ...

    def insert_checkpoints(
        self, heads: Sequence[ChainHead], created_at: datetime | None = None
    ) -> None: ...

    def chain_segments(self, topic: str) -> dict[int, ChainSegment]:
        """Each partition's current chain segment (``ledger.segments``)."""
        ...

    def record_segments(self, segments: Sequence[ChainSegment]) -> None: ...


class TrailSink(TrailAppend, ChainHeads, Protocol):
    """What the write path needs: append rows, know and record where chains end."""


class EventIndex(Protocol):
    def first_copies(self, event_ids: Sequence[str], since: datetime) -> dict[str, StoredEvent]:
        """The first stored copy, ingested at or after ``since``, of each id stored."""
        ...

    def stored_event_ids(self, topic: str, event_ids: Sequence[str]) -> set[str]:
        """Which of ``event_ids`` the trail (or its chain links) holds in ``topic``."""
        ...


class TrailQueries(Protocol):
    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]: ...

    def query_dicts(
        self, sql: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]: ...


class StoreAdmin(Protocol):
    def migrate(self) -> list[str]: ...

    def execute(self, sql: str) -> None:
        """A statement without a result (admin work: retention, key destruction)."""
        ...

    def ping(self) -> None: ...

    def close(self) -> None: ...
