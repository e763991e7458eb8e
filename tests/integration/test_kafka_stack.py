"""The local Kafka stack against a real broker: address, topics, a produce/consume round trip.

Deliberately leaves the broker running: other integration tests share it, and `kafka_up()` in
the next session reuses it instead of paying JVM startup again. Stop it with
`python -m audit_trail.stack down`. With KAFKA_BOOTSTRAP_SERVERS set, runs against that broker.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from audit_trail.stack import DEFAULT_TOPICS, kafka_status, kafka_up
from audit_trail.stack.probe import broker_answers

pytestmark = pytest.mark.integration

ROUND_TRIP_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def bootstrap() -> str:
    return kafka_up()


@pytest.fixture()
def admin(bootstrap: str) -> Iterator[Any]:
    client = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="test-kafka-stack")
    try:
        yield client
    finally:
        client.close()


def test_up_returns_an_answering_address(bootstrap: str) -> None:
    assert broker_answers(bootstrap)
    status = kafka_status()
    assert status.answers
    assert status.running
    assert status.bootstrap == bootstrap
    if not status.external:
        assert bootstrap.startswith("127.0.0.1:")
        assert status.pid is not None


def test_project_topics_exist_with_four_partitions(admin: Any) -> None:
    names = list(DEFAULT_TOPICS.names())
    assert names == [
        "audit.session-events", "audit.transaction-events", "audit.dead-letter", "audit.erasures",
    ]  # fmt: skip
    described = {topic["name"]: topic for topic in admin.describe_topics(names)}
    for name in names:
        assert described[name]["error_code"] == 0, described[name]
        # Erasure notices are few and read whole: one partition keeps their order.
        expected = 1 if name == DEFAULT_TOPICS.erasures else 4
        assert len(described[name]["partitions"]) == expected, name


def test_message_round_trip_through_session_topic(bootstrap: str) -> None:
    topic = DEFAULT_TOPICS.session
    marker = uuid.uuid4().hex.encode()  # unique, so messages of earlier runs never match
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        sent = producer.send(topic, key=b"stack-test", value=marker).get(timeout=30)
    finally:
        producer.close()
    assert sent.topic == topic
    assert sent.offset >= 0

    # A fresh consumer group from the earliest offset exercises group coordination too
    # (FindCoordinator, JoinGroup, the __consumer_offsets topic), not only fetch.
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"stack-test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        found = _poll_for(consumer, marker, deadline=time.monotonic() + ROUND_TRIP_TIMEOUT_S)
    finally:
        consumer.close()
    assert found is not None, f"message not read back within {ROUND_TRIP_TIMEOUT_S:.0f}s"
    assert found.key == b"stack-test"
    assert (found.partition, found.offset) == (sent.partition, sent.offset)


def _poll_for(consumer: Any, value: bytes, deadline: float) -> Any:
    while time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=1000).values():
            for record in records:
                if record.value == value:
                    return record
    return None


def test_second_up_reuses_the_same_broker(bootstrap: str) -> None:
    pid_before = kafka_status().pid
    assert kafka_up() == bootstrap
    assert kafka_status().pid == pid_before
