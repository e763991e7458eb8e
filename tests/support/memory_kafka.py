"""An in-memory stand-in for the Kafka consumer, for unit tests of the ingest loop only.

It does what ``IngestService`` asks of kafka-python's ``KafkaConsumer`` and no more:
one member that is assigned every partition of its topics at its first poll, positions,
seeks, pauses, commits, and a rebalance on demand (``revoke``). Integration tests use
the real broker, never this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from kafka import OffsetAndMetadata, TopicPartition

from consumers.partitions import PartitionFacts


class Message(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int = 0
    # kafka-python's records carry headers; the consumer ships them to its workers.
    headers: tuple[tuple[str, bytes | None], ...] = ()


class MemoryConsumer:
    def __init__(self, partitions: int = 1) -> None:
        self.partitions = partitions
        self.logs: dict[TopicPartition, list[Message]] = {}
        self.committed: dict[TopicPartition, int] = {}
        self.listener: Any = None
        self.topics: list[str] = []
        self._assigned: set[TopicPartition] = set()
        self._paused: set[TopicPartition] = set()
        self._positions: dict[TopicPartition, int] = {}
        self._joined = False
        self.closed = False
        # Called at the start of each poll: a test's script (a rebalance, a stop).
        self.on_poll: Callable[[], object] = lambda: None

    # --- the test's side -------------------------------------------------------------

    def append(self, topic: str, partition: int, key: bytes | None, value: bytes | None) -> int:
        tp = TopicPartition(topic, partition)
        log = self.logs.setdefault(tp, [])
        log.append(Message(topic, partition, len(log), key, value))
        return len(log) - 1

    def read_all(self) -> bool:
        """Whether every record of the assigned partitions was handed out."""
        logs = self.logs
        return bool(self._assigned) and all(
            self.position(tp) >= len(logs.get(tp, [])) for tp in self._assigned
        )

    def revoke(self, tps: Iterable[TopicPartition]) -> None:
        """A rebalance that takes ``tps`` away from this member."""
        gone = [tp for tp in tps if tp in self._assigned]
        self.listener.on_partitions_revoked(gone)
        self._assigned -= set(gone)

    # --- what IngestService calls ----------------------------------------------------

    def subscribe(self, topics: list[str], listener: Any = None) -> None:
        self.topics, self.listener = list(topics), listener

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[Any, list[Any]]:
        self.on_poll()
        if not self._joined:
            self._joined = True
            self._assigned = {
                TopicPartition(t, p) for t in self.topics for p in range(self.partitions)
            }
            if self.listener is not None:
                self.listener.on_partitions_assigned(sorted(self._assigned))
            return {}
        budget = max_records if max_records is not None else 1 << 30
        out: dict[Any, list[Any]] = {}
        for tp in sorted(self._assigned - self._paused):
            at = self._positions.get(tp, 0)
            taken = self.logs.get(tp, [])[at : at + budget]
            if taken:
                out[tp] = taken
                self._positions[tp] = at + len(taken)
                budget -= len(taken)
        return out

    def assignment(self) -> set[TopicPartition]:
        return set(self._assigned)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        if tp not in self._assigned:
            raise ValueError("Unassigned partition")
        self._positions[tp] = offset

    def seek_to_beginning(self, *tps: TopicPartition) -> None:
        for tp in tps:
            self.seek(tp, 0)

    def position(self, tp: TopicPartition, timeout_ms: int | None = None) -> int:
        return self._positions.get(tp, 0)

    def end_offsets(self, tps: list[TopicPartition], timeout_ms: int | None = None) -> Any:
        return {tp: len(self.logs.get(tp, [])) for tp in tps}

    def beginning_offsets(self, tps: list[TopicPartition], timeout_ms: int | None = None) -> Any:
        return {tp: 0 for tp in tps}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(self.partitions))

    def pause(self, *tps: TopicPartition) -> None:
        self._paused |= set(tps)

    def resume(self, *tps: TopicPartition) -> None:
        self._paused -= set(tps)

    def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata], timeout_ms: int = 0) -> None:
        for tp, meta in offsets.items():
            self.committed[tp] = meta.offset

    def close(self, autocommit: bool = False, timeout_ms: int = 0) -> None:
        self.closed = True


class MemoryFacts:
    """Where the memory consumer's partitions start and end (a ``PartitionSource``)."""

    def __init__(self, consumer: MemoryConsumer) -> None:
        self.consumer = consumer

    def facts(self, tps: list[TopicPartition]) -> dict[TopicPartition, PartitionFacts]:
        return {tp: PartitionFacts(0, len(self.consumer.logs.get(tp, [])), "") for tp in tps}

    def close(self) -> None:
        pass


class MemoryDeadLetters:
    """The dead-letter topic: what was published, in order."""

    def __init__(self) -> None:
        self.published: list[Any] = []

    def send_all(self, letters: list[Any], timeout_s: float = 30.0) -> None:
        self.published.extend(letters)

    def close(self, timeout_s: float = 10.0) -> None:
        pass
