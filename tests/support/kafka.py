"""Reading raw records back with a plain kafka-python consumer (no code of ours)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from kafka import KafkaConsumer, TopicPartition


def read_all(bootstrap: str, topic: str, expected: int, timeout_s: float = 60.0) -> list[Any]:
    """Every record of ``topic`` from the start, waiting until ``expected`` have arrived."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        client_id=f"test-reader-{uuid.uuid4().hex[:6]}",
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        # One more short poll: more than expected would be a bug worth seeing.
        for batch in consumer.poll(timeout_ms=300).values():
            records.extend(batch)
        return records
    finally:
        consumer.close()


def default_partition(key: bytes, partitions: int) -> int:
    """Where kafka-python's own default partitioner (murmur2) puts ``key``."""
    from types import SimpleNamespace

    from kafka.partitioner.default import DefaultPartitioner

    every = set(range(partitions))
    cluster = SimpleNamespace(
        topics=lambda: {"t"},
        partitions_for_topic=lambda _topic: every,
        available_partitions_for_topic=lambda _topic: every,
    )
    return int(DefaultPartitioner().partition("t", key, key, None, None, cluster))
