"""The ingest loop's logic, driven without engines: the real ``IngestService`` over an
in-memory Kafka consumer and the in-memory trail (integration tests use the real ones)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from kafka import TopicPartition

from consumers import IngestConfig, IngestService
from consumers.envelope import session_partition
from ledger import COLUMN_NAMES, DUPLICATE, ROW_COLUMNS, ZERO_HASH, row_hash
from ledger.trail_row import TrailRow
from producers.simulation import simulate
from schemas import SESSION_FAMILY, AvroCodec
from tests.support.memory_kafka import MemoryConsumer, MemoryDeadLetters, MemoryFacts
from tests.support.memory_trail import MemoryTrail

S, T = "s", "t"  # the session and transaction topics
DAY = datetime(2026, 11, 2, tzinfo=UTC)
CODEC = AvroCodec(uuids_as_text=True)
_N = len(ROW_COLUMNS)  # a linked row: these, then prev_hash, row_hash, chain_version
_PREV, _HASH, _VERSION = (COLUMN_NAMES.index(n) for n in ("prev_hash", "row_hash", "chain_version"))


def _config(**knobs: Any) -> IngestConfig:
    base: dict[str, Any] = {
        "topics": (S, T),
        "dead_letter_topic": "dlq",
        "batch_max_age_s": 0.0,
        "retry_initial_s": 0.01,
        "retry_max_s": 0.05,
    }
    return IngestConfig(**(base | knobs))


def _service(
    consumer: MemoryConsumer, trail: MemoryTrail, **knobs: Any
) -> tuple[IngestService, MemoryDeadLetters]:
    letters = MemoryDeadLetters()
    service = IngestService(
        _config(**knobs),
        consumer,  # type: ignore[arg-type]
        trail,
        letters,  # type: ignore[arg-type]
        partitions=MemoryFacts(consumer),
        clock=lambda: DAY,
    )
    return service, letters


def _fill(consumer: MemoryConsumer, sessions: int, month: dict[int, datetime] | None = None) -> int:
    """Simulated events on their session's partition; ``month``: a partition's events
    moved to that time. The number of events."""
    events = list(simulate(sessions, 5, DAY))
    for event in events:
        partition = session_partition(event.key, consumer.partitions)
        if month and partition in month:
            event = event.model_copy(update={"occurred_at": month[partition]})
        topic = S if event.family == SESSION_FAMILY else T
        consumer.append(topic, partition, event.key, CODEC.encode(event.family, event.to_avro()))
    return len(events)


def _plain(row: tuple[Any, ...]) -> TrailRow:
    return TrailRow._make(row[:_N])


def _each_offset_once_and_chained(trail: MemoryTrail, consumer: MemoryConsumer) -> None:
    for tp, log in consumer.logs.items():
        place = (tp.topic, tp.partition)
        rows = sorted(
            (r for r in trail.rows if (_plain(r).kafka_topic, _plain(r).kafka_partition) == place),
            key=lambda r: _plain(r).kafka_offset,
        )
        assert [_plain(r).kafka_offset for r in rows] == list(range(len(log)))
        prev = ZERO_HASH
        for row in rows:
            assert row[_PREV] == prev and row[_HASH] == row_hash(prev, row[:_N], row[_VERSION])
            prev = row[_HASH]


def test_a_normal_run_stores_every_offset_once_chained_and_commits_after_it() -> None:
    consumer, trail = MemoryConsumer(partitions=2), MemoryTrail()
    events = _fill(consumer, 6)
    service, letters = _service(consumer, trail)
    service.run(until_idle=True, idle_grace_s=0.0)
    _each_offset_once_and_chained(trail, consumer)
    assert service.stats.rows == events == len(trail.rows)
    assert letters.published == []
    assert consumer.committed == {tp: len(log) for tp, log in consumer.logs.items()}
    assert {(h.topic, h.partition) for h in trail.checkpoints} == {
        (tp.topic, tp.partition) for tp in consumer.logs
    }


def test_a_flush_spanning_two_months_is_one_insert_per_month() -> None:
    consumer, trail = MemoryConsumer(partitions=2), MemoryTrail()
    _fill(consumer, 6, month={0: datetime(2026, 10, 31, 22, 0, tzinfo=UTC)})
    # Nothing due before the stop: its last flush takes every partition's batch at once.
    service, _ = _service(consumer, trail, batch_max_age_s=3600.0, batch_max_rows=100_000)
    consumer.on_poll = lambda: service.stop() if consumer.read_all() else None
    service.run()
    _each_offset_once_and_chained(trail, consumer)
    assert service.stats.inserts == 2 and len(trail.tokens) == 2
    months = [_plain(r).occurred_at.month for r in trail.rows]
    assert months == sorted(months) and set(months) == {10, 11}  # October's insert first
    assert consumer.committed == {tp: len(log) for tp, log in consumer.logs.items()}


def test_a_repeated_event_id_is_stored_once_and_recorded_as_a_duplicate() -> None:
    consumer, trail = MemoryConsumer(), MemoryTrail()
    event = next(iter(simulate(1, 2, DAY)))
    value = CODEC.encode(event.family, event.to_avro())
    topic = S if event.family == SESSION_FAMILY else T
    for _ in range(3):
        consumer.append(topic, 0, event.key, value)
    service, _ = _service(consumer, trail)
    service.run(until_idle=True, idle_grace_s=0.0)
    rows = trail.stored(topic, 0)
    assert [r.family == DUPLICATE for r in rows] == [False, True, True]
    assert service.dedup.counts.repeats == 2
    # A later run (a replay from another topic's copy) finds it in the store.
    consumer.append(topic, 0, event.key, value)
    again, _ = _service(consumer, trail)
    again.run(until_idle=True, idle_grace_s=0.0)
    assert [r.family == DUPLICATE for r in trail.stored(topic, 0)] == [False, True, True, True]
    assert again.dedup.counts.repeats == 1


def test_an_insert_failing_once_then_succeeding_loses_and_doubles_nothing() -> None:
    for landed in (False, True):
        consumer, trail = MemoryConsumer(partitions=2), MemoryTrail()
        _fill(consumer, 4)
        trail.refuse(1, landed=landed)
        service, _ = _service(consumer, trail)
        service.run(until_idle=True, idle_grace_s=0.0)
        _each_offset_once_and_chained(trail, consumer)
        assert trail.dropped == (1 if landed else 0)
        assert trail.attempts == service.stats.inserts + 1  # the refused one, then again
        assert consumer.committed == {tp: len(log) for tp, log in consumer.logs.items()}


def test_a_partition_revoked_mid_batch_is_left_to_its_new_owner_whole() -> None:
    consumer, trail = MemoryConsumer(partitions=2), MemoryTrail()
    _fill(consumer, 8)
    gone = TopicPartition(S, 1)
    first, _ = _service(consumer, trail, batch_max_age_s=3600.0, batch_max_rows=100_000)
    polls = Counter[str]()

    def rebalance_then_stop() -> None:
        polls["n"] += 1
        if polls["n"] == 3:  # 1: assignment, 2: records read into batches, 3: revoked
            consumer.revoke([gone])
        elif polls["n"] == 4:
            first.stop()

    consumer.on_poll = rebalance_then_stop
    first.run()
    assert trail.stored(S, 1) == []  # dropped from the batches, never stored here
    assert gone not in consumer.committed
    assert trail.stored(S, 0) != []
    # The new owner (a fresh member) resumes every partition from the store's heads.
    owner = MemoryConsumer(partitions=2)
    owner.logs = consumer.logs
    second, _ = _service(owner, trail)
    second.run(until_idle=True, idle_grace_s=0.0)
    _each_offset_once_and_chained(trail, consumer)
    assert first.stats.rows + second.stats.rows == sum(len(log) for log in consumer.logs.values())
