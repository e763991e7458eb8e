"""Per-partition batches: one month per batch, and the dedup token of an insert."""

from __future__ import annotations

from consumers.batching import Item, PartitionBatch, dedup_token
from ledger.store import check_token


def _batch(topic: str, partition: int, offsets: range, part: int = 202611) -> PartitionBatch:
    batch = PartitionBatch(topic, partition)
    for offset in offsets:
        batch.add(Item(offset, (), part=part))
    return batch


def test_a_batch_takes_only_rows_of_its_month() -> None:
    batch = _batch("s", 0, range(3), part=202610)
    assert batch.takes(Item(3, (), part=202610))
    assert not batch.takes(Item(3, (), part=202611))
    assert PartitionBatch("s", 0).takes(Item(0, (), part=202611))  # empty: any month
    assert batch.part == 202610


def test_one_batch_keeps_its_readable_token() -> None:
    assert dedup_token([_batch("audit.session", 2, range(10, 15))]) == "audit.session:2:10-14"


def test_several_batches_share_one_token_whatever_their_order() -> None:
    a = _batch("audit.session-" + "x" * 200, 0, range(5))
    b = _batch("audit.transaction-" + "y" * 200, 3, range(7, 9))
    token = dedup_token([a, b])
    assert token == dedup_token([b, a])
    assert check_token(token) == token  # long topic names still give a valid token
    assert token != dedup_token([a, _batch(b.topic, 3, range(7, 10))])
    assert token != dedup_token([a])
