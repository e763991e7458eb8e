"""The composition root's helpers: turn settings into connected parts."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer

from audit_trail import local_broker
from audit_trail.kafka_diagnosis import diagnosed
from audit_trail.settings import Settings
from audit_trail.topics import ensure_topics
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
from producers import AuditProducer
from schemas import (
    AuditTrailError,
    AvroCodec,
    ConfluentSchemas,
    SchemaRegistryClient,
    default_registry,
    subject_for,
)

log = logging.getLogger(__name__)


class NoBroker(AuditTrailError):
    """No Kafka broker is configured or running."""


class NoSchemaRegistryConfigured(AuditTrailError):
    """A setting needs a schema registry and none is configured."""


def bootstrap_servers(settings: Settings) -> str:
    """The configured broker, else the running local stack's."""
    if settings.kafka_bootstrap_servers:
        return settings.kafka_bootstrap_servers
    local = local_broker.find()
    if local:
        return local
    raise NoBroker(
        "no Kafka broker: set KAFKA_BOOTSTRAP_SERVERS, or start the local one with "
        "`audit-trail stack up`"
    )


def kafka_config(settings: Settings) -> dict[str, Any]:
    """The security arguments every Kafka client of the project is opened with."""
    return settings.kafka_security.client_kwargs()


def schema_registry(settings: Settings) -> SchemaRegistryClient | None:
    """The configured schema registry's client, or None."""
    if not settings.schema_registry_url:
        return None
    password = settings.schema_registry_password
    return SchemaRegistryClient(
        settings.schema_registry_url,
        user=settings.schema_registry_user,
        password=password.get_secret_value() if password is not None else None,
    )


def consumer_codec(settings: Settings) -> AvroCodec:
    """The consumer's codec: single-object always, the Confluent framing with a registry."""
    client = schema_registry(settings)
    codec = AvroCodec(uuids_as_text=True)
    if client is not None:
        codec.registry_schemas = ConfluentSchemas(client, codec.registry)
    return codec


def registered_ids(client: SchemaRegistryClient, family_topics: dict[str, str]) -> dict[str, int]:
    """Per family, the registry id of its newest version under its topic's subject."""
    registry = default_registry()
    ids: dict[str, int] = {}
    for family, topic in family_topics.items():
        newest = registry.latest(family)
        schema_id = client.lookup(subject_for(topic), dict(newest.source))
        if schema_id is None:
            raise NoSchemaRegistryConfigured(
                f"{newest.label} is not registered under subject {subject_for(topic)} at "
                f"{client.url}; publish our versions with `audit-trail schemas register`"
            )
        ids[family] = schema_id
    return ids


def topics_ready(settings: Settings) -> tuple[str, list[str]]:
    """The broker, with every topic created (retention of the erasure promise), and how
    existing topics differ from that promise."""
    bootstrap = bootstrap_servers(settings)
    # The first connection a command makes: a refused login or TLS trust is named here.
    with diagnosed(bootstrap, settings.kafka_security):
        problems = ensure_topics(
            bootstrap,
            settings.topics,
            settings.topic_partitions,
            settings.topic_retention_days,
            kafka_config=kafka_config(settings),
        )
    return bootstrap, problems


def _topics_reported(settings: Settings) -> str:
    """``topics_ready``, each difference logged as a warning; the broker."""
    bootstrap, problems = topics_ready(settings)
    for problem in problems:
        log.warning("%s", problem)
    return bootstrap


def producer(settings: Settings) -> AuditProducer:
    bootstrap = _topics_reported(settings)
    return AuditProducer(
        bootstrap,
        settings.family_topics,
        schema_ids=confluent_schema_ids(settings),
        **kafka_config(settings),
    )


def confluent_schema_ids(settings: Settings) -> dict[str, int] | None:
    """Per family, the registry id of the schema producers write (Confluent framing), or
    None for the single-object framing."""
    if settings.producer_framing != "confluent":
        return None
    client = schema_registry(settings)
    if client is None:
        raise NoSchemaRegistryConfigured(
            "AUDIT_PRODUCER_FRAMING=confluent needs AUDIT_SCHEMA_REGISTRY_URL"
        )
    return registered_ids(client, settings.family_topics)


def erasure_feed(settings: Settings) -> ErasureFeed:
    """Every erasure published so far, loaded (blocks until read to the end), then followed;
    the topics are made ready first."""
    return ErasureFeed(
        _topics_reported(settings), settings.topic_erasures, **kafka_config(settings)
    )


def erasure_publisher(settings: Settings) -> KafkaErasurePublisher:
    # Topics first: a broker that auto-creates topics would make an expiring one.
    try:
        bootstrap = _topics_reported(settings)
    except AuditTrailError as exc:
        raise ErasureNotPublished(
            f"the erasure cannot be published: {exc}. Nothing was erased: run the erasure "
            "again once the broker answers"
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
    )
