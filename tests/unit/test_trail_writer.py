"""The trail writer on the in-memory trail: its order, its months, its retries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest

from consumers.decoding import to_item
from ledger import (
    COLUMN_NAMES,
    DEAD_LETTER,
    DUPLICATE,
    ROW_COLUMNS,
    ChainHead,
    StoreUnavailable,
    row_hash,
)
from ledger.repeats import Deduplicator
from ledger.trail_batch import BatchSpansMonths, ForeignRow, PartitionRows
from ledger.trail_row import TrailRow
from ledger.trail_writer import TrailWriter
from schemas import AvroCodec, InvalidInput
from tests.support.memory_kafka import Message
from tests.support.memory_trail import MemoryTrail
from tests.support.samples import one_of_each

T = TypeVar("T")
NOW = datetime(2026, 11, 3, tzinfo=UTC)
CODEC = AvroCodec(uuids_as_text=True)
_N = len(ROW_COLUMNS)  # a linked row: these, then prev_hash, row_hash, chain_version
_PREV, _HASH, _VERSION = (COLUMN_NAMES.index(n) for n in ("prev_hash", "row_hash", "chain_version"))
_MS = int(NOW.timestamp() * 1000)  # a dead letter's time is its Kafka timestamp


def _rows(topic: str, partition: int, values: list[bytes | None], first: int = 0) -> list[TrailRow]:
    return [
        to_item(CODEC, Message(topic, partition, first + i, None, value, _MS), NOW).row
        for i, value in enumerate(values)
    ]


def _values(n: int, start: int = 0) -> list[bytes | None]:
    events = list(one_of_each().values())
    return [CODEC.encode(e.family, e.to_avro()) for e in (events * 3)[start : start + n]]


class Calls:
    """Records the order in which the writer's collaborators are called."""

    def __init__(self, trail: MemoryTrail) -> None:
        self.log: list[str] = []
        self.sealed: list[TrailRow] = []
        self.trail = trail

    def seal(self, row: TrailRow) -> TrailRow:
        self.log.append("seal")
        self.sealed.append(row)
        return row._replace(network_ip="sealed") if row.network_ip is not None else row

    def flush(self) -> None:
        self.log.append("keys")

    def insert_trail(self, rows: list[tuple[object, ...]], dedup_token: str) -> None:
        self.log.append("insert")
        self.trail.insert_trail(rows, dedup_token)

    def __getattr__(self, name: str) -> object:
        return getattr(self.trail, name)


def _retrying(tries: list[int]) -> Callable[[Callable[[], T]], T]:
    def retry(fn: Callable[[], T]) -> T:
        while True:
            tries.append(1)
            try:
                return fn()
            except StoreUnavailable:
                continue

    return retry


def _partitions(trail: MemoryTrail) -> list[int]:
    return [TrailRow._make(r[:_N]).kafka_partition for r in trail.rows]


def test_repeats_settle_before_sealing_keys_go_before_rows_and_only_events_are_sealed() -> None:
    trail = MemoryTrail()
    calls = Calls(trail)
    dedup = Deduplicator(trail, timedelta(days=7), lambda: NOW)
    writer = TrailWriter(calls, dedup, sealer=calls, keys=calls)  # type: ignore[arg-type]
    values = _values(3)
    # event, event, the first event again, a dead letter (bytes Avro cannot read)
    rows = _rows("s", 0, [*values[:2], values[0], b"\x00garbage"])
    written = writer.write([PartitionRows("s", 0, rows)])
    kinds = [r.family for r in trail.stored("s", 0)]
    assert kinds[2:] == [DUPLICATE, DEAD_LETTER] and DUPLICATE not in kinds[:2]
    # Only the two events were sealed: no key for a repeat nor for a dead letter.
    assert [r.kafka_offset for r in calls.sealed] == [0, 1]
    assert calls.log == ["seal", "seal", "keys", "insert"]
    assert dedup.counts.repeats == 1
    stored = trail.stored("s", 0)
    assert all(r.network_ip in (None, "sealed") for r in stored)
    assert written.heads[("s", 0)] == trail.chain_heads("s")[0]
    assert (written.rows, written.inserts) == (4, 1)


def test_a_flush_spanning_two_months_is_two_inserts_the_older_month_first() -> None:
    trail = MemoryTrail()
    writer = TrailWriter(trail)
    october = [
        r._replace(occurred_at=datetime(2026, 10, 31, 23, 59, tzinfo=UTC))
        for r in _rows("s", 1, _values(2))
    ]
    november = _rows("s", 0, _values(3))
    written = writer.write([PartitionRows("s", 0, november), PartitionRows("s", 1, october)])
    assert written.inserts == 2
    assert trail.tokens == ["s:1:0-1", "s:0:0-2"]
    assert _partitions(trail) == [1, 1, 0, 0, 0]


def test_one_partitions_rows_of_two_months_are_refused_before_anything_is_written() -> None:
    rows = _rows("s", 0, _values(2))
    rows[1] = rows[1]._replace(occurred_at=rows[1].occurred_at + timedelta(days=40))
    with pytest.raises(BatchSpansMonths, match=r"s\[0\]: rows of months \[202611, 202612\]"):
        PartitionRows("s", 0, rows)


def test_a_row_of_another_partition_is_refused_before_anything_is_written() -> None:
    rows = _rows("s", 0, _values(2)) + _rows("s", 1, _values(1), first=2)
    with pytest.raises(ForeignRow, match=r"a row of s\[1\] \(offset 2\) in the batch of s\[0\]"):
        PartitionRows("s", 0, rows)


def test_two_batches_of_one_partition_in_one_write_are_refused() -> None:
    trail = MemoryTrail()
    rows = _rows("s", 0, _values(4))
    with pytest.raises(InvalidInput, match="one batch per partition"):
        TrailWriter(trail).write([PartitionRows("s", 0, rows[:2]), PartitionRows("s", 0, rows[2:])])
    assert trail.rows == []


@pytest.mark.parametrize("landed", [False, True])
def test_a_retried_insert_carries_the_first_attempts_rows_and_heads_match_the_store(
    landed: bool,
) -> None:
    trail = MemoryTrail()
    tries: list[int] = []
    sealer = Calls(trail)
    writer = TrailWriter(trail, sealer=sealer, retry=_retrying(tries))
    trail.refuse(1, landed=landed)
    written = writer.write([PartitionRows("s", 0, _rows("s", 0, _values(3)))])
    assert len(sealer.sealed) == 3  # sealed once: a retry re-seals nothing
    assert trail.attempts == 2 and trail.dropped == (1 if landed else 0)
    assert [r.kafka_offset for r in trail.stored("s", 0)] == [0, 1, 2]
    assert written.heads[("s", 0)] == trail.chain_heads("s")[0]


def test_writes_continue_the_chain_from_the_head_they_are_given() -> None:
    trail = MemoryTrail()
    writer = TrailWriter(trail)
    first = writer.write([PartitionRows("s", 0, _rows("s", 0, _values(2)))]).heads[("s", 0)]
    rows = _rows("s", 0, _values(2, start=2), first=2)
    second = writer.write([PartitionRows("s", 0, rows, first)]).heads[("s", 0)]
    prev = ChainHead.start("s", 0).row_hash
    for row in sorted(trail.rows, key=lambda r: TrailRow._make(r[:_N]).kafka_offset):
        assert row[_PREV] == prev and row[_HASH] == row_hash(prev, row[:_N], row[_VERSION])
        prev = row[_HASH]
    assert second == ChainHead("s", 0, 3, prev)


def test_nothing_to_write_writes_nothing() -> None:
    trail = MemoryTrail()
    assert TrailWriter(trail).write([PartitionRows("s", 0, [])]).inserts == 0
    assert trail.attempts == 0


def test_a_repeat_compares_with_its_sealed_first_copy_like_with_like() -> None:
    # The first copy is stored sealed, the repeat arrives plain: personal columns are
    # left out of the comparison, so the same event is a repeat, not a conflict.
    trail = MemoryTrail()
    sealer = Calls(trail)
    dedup = Deduplicator(trail, timedelta(days=7), lambda: NOW)
    writer = TrailWriter(trail, dedup, sealer=sealer)
    value = next(v for v in _values(9) if _rows("s", 0, [v])[0].network_ip is not None)
    head = writer.write([PartitionRows("s", 0, _rows("s", 0, [value]))]).heads[("s", 0)]
    assert trail.stored("s", 0)[0].network_ip == "sealed"
    writer.write([PartitionRows("s", 0, _rows("s", 0, [value], first=1), head)])
    assert (dedup.counts.repeats, dedup.counts.conflicts) == (1, 0)
    assert len(sealer.sealed) == 1  # the repeat was not sealed
