"""Helpers for ingest tests: fill topics with simulated days, run the real consumer."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer

from audit_trail.stack import TopicLayout
from consumers import DeadLetterPublisher, IngestConfig, IngestService
from ledger import Store
from ledger.privacy import RowSealer
from producers import AuditProducer
from producers.events import Event
from producers.simulation import simulate
from schemas import SESSION_FAMILY, TRANSACTION_FAMILY, AvroCodec

DAY = datetime(2026, 11, 2, tzinfo=UTC)


def family_topics(topics: TopicLayout) -> dict[str, str]:
    return {SESSION_FAMILY: topics.session, TRANSACTION_FAMILY: topics.transaction}


def fill(bootstrap: str, topics: TopicLayout, sessions: int, seed: int = 1) -> list[Event]:
    events = list(simulate(sessions, seed, DAY))
    with AuditProducer(bootstrap, family_topics(topics), linger_ms=20) as producer:
        for event in events:
            producer.send(event)
    return events


def service(
    bootstrap: str,
    topics: TopicLayout,
    store: Store,
    group: str | None = None,
    keys: Any = None,
    erasures: Any = None,
    codec: AvroCodec | None = None,
    kafka: dict[str, Any] | None = None,
    tree: Any = None,
    erasure_records: Any = None,
    **config: Any,
) -> IngestService:
    """The real consumer; with ``keys`` (a KeyStore) it encrypts personal fields too, and
    with ``erasures`` (an ErasureFeed) it applies erasures before sealing; ``kafka``
    overrides the consumer's client settings."""
    settings = IngestConfig(
        topics=(topics.session, topics.transaction),
        dead_letter_topic=topics.dead_letter,
        group_id=group or f"test-{uuid.uuid4().hex[:8]}",
        **config,
    )
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=settings.group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.max_poll_records,
        **{"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000, **(kafka or {})},
    )
    sealer = RowSealer(keys, erasures=erasures) if keys is not None else None
    return IngestService(
        settings,
        consumer,
        store,
        DeadLetterPublisher(bootstrap, topics.dead_letter),
        sealer=sealer,
        keys=keys,
        codec=codec,
        tree=tree,
        erasure_records=erasure_records,
    )


def stored_ids(store: Store, topics: TopicLayout) -> list[str]:
    rows = store.query(
        "SELECT toString(event_id) FROM trail WHERE kafka_topic IN ({a:String}, {b:String}) "
        "AND family NOT IN ('dead_letter', 'duplicate')",
        {"a": topics.session, "b": topics.transaction},
    )
    return [r[0] for r in rows]


def offsets_contiguous(store: Store, topic: str) -> bool:
    rows = store.query(
        "SELECT kafka_partition, min(kafka_offset), max(kafka_offset), count(), "
        "uniqExact(kafka_offset) FROM trail WHERE kafka_topic = {t:String} "
        "GROUP BY kafka_partition",
        {"t": topic},
    )
    return all(lo == 0 and hi - lo + 1 == n == distinct for _, lo, hi, n, distinct in rows)


def assert_stored_exactly_once(store: Store, topics: TopicLayout, sent: list[Event]) -> None:
    """Every sent event stored once, offsets without gap or repeat, every chain sound."""
    from ledger import verify

    assert sorted(stored_ids(store, topics)) == sorted(str(e.event_id) for e in sent)
    assert offsets_contiguous(store, topics.session)
    assert offsets_contiguous(store, topics.transaction)
    assert verify(store, [topics.session, topics.transaction]).ok


def cli_env(bootstrap: str, topics: TopicLayout) -> dict[str, str]:
    """The environment a CLI subprocess needs to use ``topics`` on ``bootstrap``."""
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "AUDIT_TOPIC_SESSION": topics.session,
        "AUDIT_TOPIC_TRANSACTION": topics.transaction,
        "AUDIT_TOPIC_DEAD_LETTER": topics.dead_letter,
        "AUDIT_TOPIC_ERASURES": topics.erasures,
    }
