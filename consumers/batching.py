"""Per-partition batches: what has been read from one partition and not yet stored."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from consumers.dead_letters import DeadLetter
from ledger.trail_batch import batch_token, insert_token
from ledger.trail_row import TrailRow


@dataclass(frozen=True)
class Item:
    """One Kafka record's trail row (hashes still to come), and its dead letter if bad."""

    offset: int
    row: TrailRow
    letter: DeadLetter | None = None
    # The trail's table partition the row lands in (toYYYYMM(occurred_at)).
    part: int = 0
    # Stored, but keyed or placed apart from its session (consumers.envelope).
    flags: str | None = None


@dataclass
class PartitionBatch:
    topic: str
    partition: int
    items: list[Item] = field(default_factory=list)
    opened_at: float = 0.0

    def add(self, item: Item) -> None:
        if not self.items:
            self.opened_at = time.monotonic()
        elif item.offset <= self.items[-1].offset:
            # kafka-python may hand back a record again after a seek; keep offsets strict.
            return
        self.items.append(item)

    def takes(self, item: Item) -> bool:
        """Whether ``item`` may join this batch: only rows of one table partition may.

        ClickHouse commits an insert's parts one table partition at a time, so a crash
        in the middle of an insert spanning two months could keep later offsets and lose
        earlier ones, and resuming after the stored head would skip the lost rows. An
        insert into one partition is one part: all or nothing.
        """
        return not self.items or self.items[-1].part == item.part

    def __len__(self) -> int:
        return len(self.items)

    @property
    def first_offset(self) -> int:
        return self.items[0].offset

    @property
    def last_offset(self) -> int:
        return self.items[-1].offset

    @property
    def dedup_token(self) -> str:
        """Same records, same token: ClickHouse drops a replayed insert of this batch."""
        return batch_token(self.topic, self.partition, self.first_offset, self.last_offset)

    @property
    def part(self) -> int:
        return self.items[0].part

    def due(self, max_rows: int, max_age_s: float, now: float | None = None) -> bool:
        if not self.items:
            return False
        age = (now if now is not None else time.monotonic()) - self.opened_at
        return len(self.items) >= max_rows or age >= max_age_s

    def rows(self) -> list[TrailRow]:
        return [item.row for item in self.items]

    def letters(self) -> list[DeadLetter]:
        return [item.letter for item in self.items if item.letter is not None]


def dedup_token(batches: Sequence[PartitionBatch]) -> str:
    """The token of one insert of these batches (``ledger.trail_batch.insert_token``)."""
    return insert_token([batch.dedup_token for batch in batches])
