"""The composition root's helpers: turn settings into connected parts (stores, consumer,
erasures). The producer side is in `producing`, topics and brokers in `kafka_topics`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial

from kafka import KafkaConsumer

# Re-exported (`x as x`): callers name the composition root's parts through this module.
from audit_trail.kafka_topics import MissingTopic as MissingTopic
from audit_trail.kafka_topics import NoBroker as NoBroker
from audit_trail.kafka_topics import bootstrap_servers as bootstrap_servers
from audit_trail.kafka_topics import consumer_topics, require_topics
from audit_trail.kafka_topics import kafka_config as kafka_config
from audit_trail.producing import NoSchemaRegistryConfigured as NoSchemaRegistryConfigured
from audit_trail.producing import confluent_schema_ids as confluent_schema_ids
from audit_trail.producing import producer as producer
from audit_trail.producing import registered_ids as registered_ids
from audit_trail.producing import schema_registry as schema_registry
from audit_trail.settings import Settings
from consumers import (
    DeadLetterPublisher,
    ErasureFeed,
    IngestConfig,
    IngestMetrics,
    IngestService,
    KafkaErasurePublisher,
)
from consumers.erasure_records import ErasureRecordAppender
from ledger import Store, open_store
from ledger.erasure import RecordSigning
from ledger.expiry import ExpiryGate
from ledger.merkle import Checkpointer, NoteSigner, signer_from
from ledger.privacy import (
    ErasureNotPublished,
    Erasures,
    KeyStore,
    RowOpener,
    RowSealer,
    StoreKeyStore,
    master_key_from,
)
from ledger.reader import TrailReader
from ledger.retention import RetentionPolicy, apply_retention
from ledger.schema_state import require_current
from schemas import AuditTrailError, AvroCodec, ConfluentSchemas


def consumer_codec(settings: Settings) -> AvroCodec:
    """The consumer's codec: single-object always, the Confluent framing with a registry."""
    client = schema_registry(settings)
    codec = AvroCodec(uuids_as_text=True)
    if client is not None:
        codec.registry_schemas = ConfluentSchemas(client, codec.registry)
    return codec


def erasure_feed(settings: Settings) -> ErasureFeed:
    """Every erasure published so far, loaded (blocks until read to the end), then followed;
    every topic the consumer uses must exist first (MissingTopic otherwise)."""
    bootstrap = require_topics(settings, consumer_topics(settings))
    return ErasureFeed(bootstrap, settings.topic_erasures, **kafka_config(settings))


def erasure_publisher(settings: Settings) -> KafkaErasurePublisher:
    # The topic must exist: a broker that auto-creates topics would make an expiring one.
    try:
        bootstrap = require_topics(settings, [settings.topic_erasures])
    except AuditTrailError as exc:
        raise ErasureNotPublished(
            f"the erasure cannot be published: {exc}. Nothing was erased: run the erasure "
            "again once the broker answers and the topic exists"
        ) from exc
    return KafkaErasurePublisher(bootstrap, settings.topic_erasures, **kafka_config(settings))


def store(settings: Settings, *, create: bool = False) -> Store:
    """The store of a process that writes (consume with ``create``, serve, erase):
    migrated at start where configured (the embedded default), otherwise checked to be
    migrated already. Without ``create`` a place that holds no store is refused
    (ledger.factory.NoStore)."""
    if settings.migrates_at_start:
        return migrated_store(settings, create=create)
    return read_store(settings)


def migrated_store(settings: Settings, *, create: bool = True) -> Store:
    """Opened, migrated and its retention set: ``migrate`` and owners that migrate."""
    opened = open_store(
        settings.clickhouse_url, settings.data_dir, settings.database, create=create
    )
    try:
        opened.migrate()
        apply_retention(opened, retention_policy(settings))
    except BaseException:
        opened.close()
        raise
    return opened


def read_store(settings: Settings) -> Store:
    """Opened without any DDL; refuses (saying to run `migrate`) a schema behind this
    program's. Retention settings are not looked at: `migrate --check` reports drift."""
    opened = open_store(settings.clickhouse_url, settings.data_dir, settings.database, create=False)
    try:
        require_current(opened, _where(settings))
    except BaseException:
        opened.close()
        raise
    return opened


def _where(settings: Settings) -> str:
    return "the configured ClickHouse server" if settings.clickhouse_url else str(settings.data_dir)


def retention_policy(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy(
        chat_note_file_months=settings.retention_chat_note_file_months,
        billing_months=settings.retention_billing_months,
        other_months=settings.retention_other_months,
    )


def checkpoint_signer(settings: Settings) -> NoteSigner:
    return signer_from(settings.checkpoint_key, settings.data_dir, settings.checkpoint_origin)


def record_signing(settings: Settings) -> RecordSigning:
    """What signs erasure records: the checkpoint key, and the master key for the hash
    that stands for the subject."""
    return RecordSigning(
        checkpoint_signer(settings), master_key_from(settings.master_key, settings.data_dir)
    )


def keys(settings: Settings, trail: Store) -> KeyStore:
    return StoreKeyStore(trail, master_key_from(settings.master_key, settings.data_dir))


def trail_reader(settings: Settings, trail: Store) -> TrailReader:
    return TrailReader(trail, RowOpener(keys(settings, trail)))


@contextmanager
def reader(settings: Settings) -> Iterator[TrailReader]:
    trail = read_store(settings)
    try:
        yield trail_reader(settings, trail)
    finally:
        trail.close()


def ingest_service(
    settings: Settings, trail: Store, metrics: IngestMetrics, erasures: Erasures | None = None
) -> IngestService:
    """The consumer; it applies ``erasures`` before sealing any row. Pass the feed of
    ``erasure_feed(settings)``, which makes the topics ready first; without one, a new
    feed is made here (and left to the process's end to close)."""
    if erasures is None:
        erasures = erasure_feed(settings)
    bootstrap = bootstrap_servers(settings)
    config = IngestConfig(
        topics=(settings.topic_session, settings.topic_transaction),
        dead_letter_topic=settings.topic_dead_letter,
        group_id=settings.consumer_group,
        batch_max_rows=settings.batch_max_rows,
        batch_max_age_s=settings.batch_max_age_ms / 1000,
        workers=ingest_workers(settings),
        dead_letter_max_consecutive=settings.dead_letter_max_consecutive,
        dead_letter_max_ratio=settings.dead_letter_max_ratio,
        idempotency_window_days=settings.idempotency_window_days,
    )
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=config.group_id,
        client_id="audit-trail-ingest",
        enable_auto_commit=False,  # offsets move only after the store has the rows
        auto_offset_reset="earliest",
        max_poll_records=config.max_poll_records,
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=2 * 1024 * 1024,
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_interval_ms=min(3000, settings.consumer_session_timeout_ms // 3),
        **kafka_config(settings),
    )
    dead_letters = DeadLetterPublisher(
        bootstrap, config.dead_letter_topic, **kafka_config(settings)
    )
    subject_keys = keys(settings, trail)
    records = (
        ErasureRecordAppender(trail, settings.topic_erasures, erasures, lambda: datetime.now(UTC))
        if isinstance(erasures, ErasureFeed)
        else None
    )
    return IngestService(
        config,
        consumer,
        trail,
        dead_letters,
        codec=consumer_codec(settings),
        metrics=metrics,
        # Rows already past retention are not sealed (no key) and are reported.
        sealer=ExpiryGate(RowSealer(subject_keys, erasures=erasures), retention_policy(settings)),
        keys=subject_keys,
        tree=Checkpointer(trail, checkpoint_signer(settings), settings.checkpoint_origin),
        erasure_records=records,
        # Made again in each worker: a registry client cannot cross a process boundary.
        codec_factory=partial(consumer_codec, settings),
    )


def ingest_workers(settings: Settings) -> int:
    """The decoding workers: as set, else one per core this process may use beyond the
    one the consumer process keeps for itself (it seals, chains and inserts: the
    bottleneck), and none below three cores. On two shared cores two workers ingested at
    x0.91 of the consumer alone (benchmarks/README.md, "Decoding workers")."""
    if settings.ingest_workers is not None:
        return settings.ingest_workers
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores - 1 if cores is not None and cores >= 3 else 0
