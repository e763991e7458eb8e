"""The run's own topics on the broker: create, measure, delete (only ``bench.<run>.*``)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from audit_trail.stack import TopicLayout, ensure_topics
from benchmarks.plan import PARTITIONS


def create(bootstrap: str, layouts: Iterable[TopicLayout]) -> None:
    for layout in layouts:
        ensure_topics(bootstrap, layout, PARTITIONS)


def end_offsets(bootstrap: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        parts = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS)]
        return dict(consumer.end_offsets(parts))
    finally:
        consumer.close()


def message_count(bootstrap: str, topics: Iterable[str]) -> int:
    return sum(end_offsets(bootstrap, topics).values())


def delete_run_topics(bootstrap: str, prefix: str) -> list[str]:
    """Delete every topic whose name starts with ``prefix.`` (this run's, nothing else)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="audit-trail-bench")
    try:
        mine = sorted(t for t in admin.list_topics() if t.startswith(prefix + "."))
        if mine:
            admin.delete_topics(mine, timeout_ms=60_000)
        return mine
    finally:
        admin.close()


def wait_group_done(
    bootstrap: str, group: str, ends: dict[TopicPartition, int], timeout_s: float
) -> float | None:
    """When ``group`` has committed every partition's end offset (polled every 0.2 s): the
    consumer commits only after the rows are stored, so this is "everything is stored"."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="audit-trail-bench-watch")
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            committed = admin.list_group_offsets({group: list(ends)}).get(group, {})
            if all(
                tp in committed and committed[tp].offset >= end for tp, end in ends.items() if end
            ):
                return time.time()
            time.sleep(0.2)
        return None
    finally:
        admin.close()
