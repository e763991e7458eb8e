"""AuditProducer against a real broker: every event type arrives intact, keyed and in order."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit_trail.stack import TopicLayout
from producers import AuditProducer, DeliveryFailed, produce_file
from producers.events import Event, event_from_avro
from producers.simulation import simulate
from schemas import SESSION_FAMILY, TRANSACTION_FAMILY, AvroCodec
from tests.support.kafka import read_all
from tests.support.samples import one_of_each

pytestmark = pytest.mark.integration


def _family_topics(topics: TopicLayout) -> dict[str, str]:
    return {SESSION_FAMILY: topics.session, TRANSACTION_FAMILY: topics.transaction}


def _decoded(bootstrap: str, topics: TopicLayout, expected: dict[str, int]) -> list[tuple]:
    codec = AvroCodec()
    out = []
    for family, topic in _family_topics(topics).items():
        for record in read_all(bootstrap, topic, expected.get(family, 0)):
            out.append((record, event_from_avro(codec.decode(record.value).record)))
    return out


def test_every_event_type_round_trips(kafka_bootstrap: str, topics: TopicLayout) -> None:
    samples = list(one_of_each().values())
    with AuditProducer(kafka_bootstrap, _family_topics(topics)) as producer:
        deliveries = [producer.send(event) for event in samples]
        delivered = [d.result() for d in deliveries]
    assert {d.topic for d in delivered} == {topics.session, topics.transaction}
    per_family = defaultdict(int)
    for event in samples:
        per_family[event.family] += 1
    received = _decoded(kafka_bootstrap, topics, per_family)
    assert sorted((e for _, e in received), key=lambda e: str(e.event_id)) == sorted(
        samples, key=lambda e: str(e.event_id)
    )
    for record, event in received:
        assert record.key == str(event.session_id).encode()
        assert record.topic == (
            topics.session if event.family == SESSION_FAMILY else topics.transaction
        )


def test_a_day_keeps_per_session_order_within_a_partition(
    kafka_bootstrap: str, topics: TopicLayout
) -> None:
    events = list(simulate(60, 5, datetime(2026, 11, 2, tzinfo=UTC)))
    with AuditProducer(kafka_bootstrap, _family_topics(topics)) as producer:
        for event in events:
            producer.send(event)
    per_family = defaultdict(int)
    for event in events:
        per_family[event.family] += 1
    received = _decoded(kafka_bootstrap, topics, per_family)
    assert len(received) == len(events)
    partitions_of: dict[tuple[str, object], set[int]] = defaultdict(set)
    order_in_kafka: dict[tuple[str, object], list[Event]] = defaultdict(list)
    for record, event in sorted(received, key=lambda r: (r[0].topic, r[0].partition, r[0].offset)):
        partitions_of[(record.topic, event.session_id)].add(record.partition)
        order_in_kafka[(record.topic, event.session_id)].append(event)
    assert all(len(p) == 1 for p in partitions_of.values()), "a session spans partitions"
    sent_order: dict[tuple[str, object], list[Event]] = defaultdict(list)
    for event in events:
        topic = topics.session if event.family == SESSION_FAMILY else topics.transaction
        sent_order[(topic, event.session_id)].append(event)
    assert order_in_kafka == sent_order


def test_jsonl_sends_exactly_the_good_lines(
    kafka_bootstrap: str, topics: TopicLayout, tmp_path: Path
) -> None:
    good = list(one_of_each(seed=9).values())[:6]
    lines = [e.model_dump_json() for e in good]
    broken = dict(json.loads(lines[1]), currency="XXY")
    lines.insert(2, json.dumps(broken))  # line 3
    lines.insert(4, "{this is not json")  # line 5
    lines.append(json.dumps({"event_type": "teleported"}))  # line 9
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with AuditProducer(kafka_bootstrap, _family_topics(topics)) as producer:
        report = produce_file(path, producer)
    assert [b.line_number for b in report.bad] == [3, 5, 9]
    assert "currency" in report.bad[0].reason
    assert sum(report.sent.values()) == len(good)
    per_family = defaultdict(int)
    for event in good:
        per_family[event.family] += 1
    received = {e.event_id for _, e in _decoded(kafka_bootstrap, topics, per_family)}
    assert received == {e.event_id for e in good}


def test_delivery_failure_reaches_the_caller(kafka_bootstrap: str) -> None:
    # A topic that does not exist (auto-creation is off): the send cannot complete.
    missing = {SESSION_FAMILY: "no-such-topic-xyz", TRANSACTION_FAMILY: "no-such-topic-xyz"}
    producer = AuditProducer(kafka_bootstrap, missing, max_block_ms=2000)
    event = one_of_each()["participant_joined"]
    try:
        with pytest.raises(DeliveryFailed, match=str(event.event_id)):
            producer.send(event).result(timeout=10)
    finally:
        producer._kafka.close(timeout=5)


def test_broker_rejection_surfaces_from_flush(kafka_bootstrap: str) -> None:
    # The broker refuses records over 64 bytes on this topic: send() returns, the
    # rejection arrives later, and flush() must not swallow it.
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    name = f"test.tiny-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(name, 1, 1, topic_configs={"max.message.bytes": "64"})])
    finally:
        admin.close()
    producer = AuditProducer(
        kafka_bootstrap, {SESSION_FAMILY: name, TRANSACTION_FAMILY: name}, linger_ms=0
    )
    try:
        producer.send(one_of_each()["participant_joined"])
        with pytest.raises(DeliveryFailed, match="1 event"):
            producer.flush(timeout=30)
        producer.flush(timeout=5)  # reported once, not again
    finally:
        producer.close(timeout=5)
