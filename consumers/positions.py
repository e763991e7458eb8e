"""Where each assigned partition stands: its chain's head, its chain segment, and whether
Kafka is still handing out the partition that chain was built from.

The store decides where a partition resumes (right after its head), never the committed
offset. Stored offsets are Kafka offsets plus the segment's shift (``ledger.segments``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Protocol, TypeVar

from kafka import KafkaConsumer, TopicPartition

from consumers.partitions import PartitionFacts, first_segment, refusal, started_over
from ledger import ChainHead
from ledger.segments import ChainSegment
from ledger.store_parts import ChainHeads

log = logging.getLogger("consumers.ingest")
T = TypeVar("T")


class PartitionSource(Protocol):
    """Where Kafka's partitions start and end, and their topic ids."""

    def facts(self, tps: list[TopicPartition]) -> dict[TopicPartition, PartitionFacts]: ...

    def close(self) -> None: ...


class Retry(Protocol):
    """Runs ``fn`` until it succeeds (backing off while the store or broker is away)."""

    def __call__(self, fn: Callable[[], T]) -> T: ...


class Positions:
    def __init__(
        self, consumer: KafkaConsumer, store: ChainHeads, source: PartitionSource, retry: Retry
    ) -> None:
        self.consumer, self.store, self.source, self.retry = consumer, store, source, retry
        self.heads: dict[TopicPartition, ChainHead] = {}
        self.segments: dict[TopicPartition, ChainSegment] = {}
        # Partitions that handed back a record at or below their head: checked at once.
        self.suspect: set[TopicPartition] = set()

    def shift(self, tp: TopicPartition) -> int:
        segment = self.segments.get(tp)
        return segment.offset_shift if segment is not None else 0

    def kafka_offset(self, tp: TopicPartition, stored: int) -> int:
        return stored - self.shift(tp)

    def next_kafka_offsets(self) -> dict[TopicPartition, int]:
        """The Kafka offset each partition's next stored row will come from."""
        return {tp: self.kafka_offset(tp, head.offset) + 1 for tp, head in self.heads.items()}

    def drop(self, tp: TopicPartition) -> None:
        self.heads.pop(tp, None)
        self.segments.pop(tp, None)
        self.suspect.discard(tp)

    def resume(self, pending: set[TopicPartition]) -> None:
        """Continue each newly assigned partition right after the store's last row, once
        it is known to be the partition the chain was built from."""
        # A rebalance may have taken some back since they were noted: their new owner
        # resumes them.
        pending = pending & set(self.consumer.assignment())
        if not pending:
            return
        facts = self.retry(partial(self.source.facts, sorted(pending)))
        fresh: list[ChainSegment] = []
        for topic in sorted({tp.topic for tp in pending}):
            heads = self.retry(partial(self.store.chain_heads, topic))
            recorded = self.retry(partial(self.store.chain_segments, topic))
            for tp in sorted(tp for tp in pending if tp.topic == topic):
                head = heads.get(tp.partition)
                segment, new = self._segment(tp, head, recorded.get(tp.partition), facts[tp])
                # Nothing stored yet (a new store): the trail wants all Kafka still has,
                # whatever offsets the group committed for another store. The shift is the
                # segment's just found (a restarted chain's), not one noted before.
                at = None if head is None else head.offset - segment.offset_shift + 1
                if not self._seek(tp, at):
                    continue
                self.segments[tp] = segment
                fresh += [segment] if new else []
                if head is not None:
                    self.heads[tp] = head
                    log.info(
                        "%s[%d]: resume after stored offset %d", topic, tp.partition, head.offset
                    )
        # Recorded before any row of these partitions is stored (rows wait for a flush).
        if fresh:
            self.retry(partial(self.store.record_segments, fresh))

    def _seek(self, tp: TopicPartition, offset: int | None) -> bool:
        """Seek ``tp`` (to its beginning for ``None``); False if it is no longer ours."""
        try:
            if offset is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, offset)
        except ValueError:  # kafka-python: "Unassigned partition", revoked meanwhile
            log.info("%s[%d]: revoked before it resumed", tp.topic, tp.partition)
            self.drop(tp)
            return False
        return True

    def _segment(
        self,
        tp: TopicPartition,
        head: ChainHead | None,
        segment: ChainSegment | None,
        facts: PartitionFacts,
    ) -> tuple[ChainSegment, bool]:
        """The partition's segment, and whether it is new (to be recorded)."""
        why = started_over(head, segment, facts)
        if why is not None:
            raise refusal(tp, why)
        fresh = first_segment(tp.topic, tp.partition, segment, facts) if head is None else None
        if fresh is None and segment is not None:
            return segment, False
        if fresh is None:  # rows stored before segments were recorded: the id seen now
            fresh = ChainSegment.first(tp.topic, tp.partition, facts.topic_id)
        return fresh, True

    def check_suspects(self) -> None:
        """Partitions that handed back stored offsets: stop if one started over, else read
        each again from after its head."""
        suspects, self.suspect = sorted(self.suspect), set()
        facts = self.retry(partial(self.source.facts, suspects))
        self.check(facts)
        for tp in suspects:
            head = self.heads.get(tp)
            if head is not None:
                self.consumer.seek(tp, self.kafka_offset(tp, head.offset) + 1)

    def check(self, facts: dict[TopicPartition, PartitionFacts]) -> None:
        for tp, fact in sorted(facts.items()):
            why = started_over(self.heads.get(tp), self.segments.get(tp), fact)
            if why is not None:
                raise refusal(tp, why)
