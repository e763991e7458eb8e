"""One partition's rows of one flush, as the write path takes them, and insert tokens."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.chain import ChainHead
from ledger.trail_row import TrailRow
from schemas import InvalidInput


class BatchSpansMonths(InvalidInput):
    """A partition's rows of one flush fall in two months (two table partitions)."""


class ForeignRow(InvalidInput):
    """A batch holds a row read from another partition than the batch's."""


def month_of(row: TrailRow) -> int:
    """The trail's table partition a row lands in (``toYYYYMM(occurred_at)``)."""
    return row.occurred_at.year * 100 + row.occurred_at.month


@dataclass(frozen=True)
class PartitionRows:
    """A Kafka partition's rows read since its last write, in offset order (events, dead
    letters' rows, duplicates), not yet sealed nor linked, all of one month.

    ``head`` is where the partition's stored chain ends (None: nothing stored yet).
    """

    topic: str
    partition: int
    rows: Sequence[TrailRow]
    head: ChainHead | None = None

    def __post_init__(self) -> None:
        for row in self.rows:
            if (row.kafka_topic, row.kafka_partition) != (self.topic, self.partition):
                raise ForeignRow(
                    f"a row of {row.kafka_topic}[{row.kafka_partition}] (offset "
                    f"{row.kafka_offset}) in the batch of {self.topic}[{self.partition}]"
                )
        # ClickHouse commits an insert one table partition at a time: an insert spanning
        # two months could keep later offsets and lose earlier ones in a crash, and
        # resuming after the stored head would then skip the lost rows.
        months = {month_of(row) for row in self.rows}
        if len(months) > 1:
            raise BatchSpansMonths(
                f"{self.topic}[{self.partition}]: rows of months {sorted(months)} in one "
                "batch; cut batches at a month's end (consumers.batching.PartitionBatch.takes)"
            )

    @property
    def month(self) -> int:
        return month_of(self.rows[0])

    @property
    def token(self) -> str:
        """Same records, same token: ClickHouse drops a replayed insert of this batch."""
        first, last = self.rows[0].kafka_offset, self.rows[-1].kafka_offset
        return batch_token(self.topic, self.partition, first, last)

    @property
    def start(self) -> ChainHead:
        return self.head if self.head is not None else ChainHead.start(self.topic, self.partition)


def batch_token(topic: str, partition: int, first: int, last: int) -> str:
    return f"{topic}:{partition}:{first}-{last}"


def insert_token(tokens: Sequence[str]) -> str:
    """The token of one insert of several batches: a retry of the same insert repeats it.

    One batch keeps its readable ``topic:partition:first-last``; several are hashed, as
    their tokens joined could pass the store's 256-character limit.
    """
    ordered = sorted(tokens)
    if len(ordered) == 1:
        return ordered[0]
    return "batches:" + hashlib.sha256("|".join(ordered).encode()).hexdigest()
