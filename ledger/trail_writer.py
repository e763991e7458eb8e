"""The write path of the trail: one flush of decoded rows in, chain heads out.

The order, for every flush (the one place it is written down; ``docs/ingest.md``):

  1. settle repeated event_ids: a repeat becomes its duplicate row (``ledger.repeats``),
     before sealing, so a repeat needs no key and contents compare unsealed;
  2. seal the events' personal fields (a dead letter's or duplicate's row holds none):
     the chain then covers the ciphertext and survives crypto-shredding;
  3. store the subjects' new keys: a row never reaches the store before its key;
  4. link each partition's rows to its chain head;
  5. insert, one month (one table partition, so one part: all or nothing) per insert,
     months in order, each with its dedup token (a replayed insert is dropped);
  6. return each partition's new head, only once every insert succeeded.

Each step that talks to the store runs under the caller's ``retry`` on its own, and
keeps the result of the steps before it: a retried insert carries the very rows (and
hashes) of the first attempt, so an insert that landed but whose answer was lost is
dropped by its token and the heads returned match what is stored.

The caller publishes dead letters before calling ``write`` and commits offsets after
(checkpoint order in ``consumers.ingest``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol, TypeVar

from ledger.chain import ChainHead, link
from ledger.repeats import Deduplicator, is_event
from ledger.rows import Row
from ledger.store_parts import TrailSink
from ledger.trail_batch import PartitionRows, insert_token
from ledger.trail_row import TrailRow
from schemas import InvalidInput

T = TypeVar("T")


class Sealer(Protocol):
    """Encrypts a row's personal fields (``ledger.privacy.RowSealer``, ``ExpiryGate``)."""

    def seal(self, row: TrailRow) -> TrailRow: ...


class KeyFlusher(Protocol):
    """Persists the keys sealing created (``ledger.privacy.KeyStore.flush``)."""

    def flush(self) -> None: ...


class Retry(Protocol):
    """Runs ``fn`` until it succeeds (the consumer backs off, paused, during an outage)."""

    def __call__(self, fn: Callable[[], T]) -> T: ...


def _once(fn: Callable[[], T]) -> T:
    return fn()


@dataclass(frozen=True)
class Written:
    """What one ``write`` stored."""

    heads: dict[tuple[str, int], ChainHead]  # (topic, partition) -> its new head
    rows: int
    inserts: int


class TrailWriter:
    def __init__(
        self,
        trail: TrailSink,
        repeats: Deduplicator | None = None,
        sealer: Sealer | None = None,
        keys: KeyFlusher | None = None,
        retry: Retry = _once,
    ) -> None:
        self.trail = trail
        self.repeats = repeats
        self.sealer = sealer
        self.keys = keys
        self.retry = retry

    def write(self, batches: Sequence[PartitionRows]) -> Written:
        """Store ``batches`` (one flush, at most one batch per partition) in the order
        of this module's docstring; the partitions' new heads."""
        todo = sorted((b for b in batches if b.rows), key=lambda b: (b.topic, b.partition))
        if len({(b.topic, b.partition) for b in todo}) != len(todo):
            raise InvalidInput("one batch per partition and flush: merge them in offset order")
        if not todo:
            return Written({}, 0, 0)
        repeats = self.repeats
        if repeats is not None:
            todo = self.retry(lambda: repeats.settle(todo))
        sealer = self.sealer
        if sealer is not None:
            todo = [replace(b, rows=_sealed(sealer, b.rows)) for b in todo]
        if self.keys is not None:
            self.retry(self.keys.flush)
        linked: dict[tuple[str, int], tuple[list[Row], ChainHead]] = {
            (b.topic, b.partition): link(b.rows, b.start) for b in todo
        }
        inserts = 0
        for month in sorted({b.month for b in todo}):
            group = [b for b in todo if b.month == month]
            rows = [row for b in group for row in linked[(b.topic, b.partition)][0]]
            token = insert_token([b.token for b in group])
            self.retry(lambda: self.trail.insert_trail(rows, token))  # noqa: B023 (called now)
            inserts += 1
        heads = {key: head for key, (_, head) in linked.items()}
        return Written(heads, sum(len(b.rows) for b in todo), inserts)

    def checkpoint(self, heads: Sequence[ChainHead], at: datetime) -> None:
        """Record the heads as checkpoints (``verify`` checks stored rows against them)."""
        self.retry(lambda: self.trail.insert_checkpoints(heads, at))


def _sealed(sealer: Sealer, rows: Sequence[TrailRow]) -> list[TrailRow]:
    # Dead letters' and duplicates' rows hold no personal data: no key for them.
    return [sealer.seal(row) if is_event(row) else row for row in rows]
