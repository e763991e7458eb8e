"""The producer side's wiring: settings to a connected AuditProducer.

Kept apart from `wiring` (stores, consumer, erasure keys) so the base install, which has
no store engine, can run `produce` and `simulate`: nothing here imports chDB or pyarrow.
"""

from __future__ import annotations

from audit_trail.kafka_topics import kafka_config, producer_topics, require_topics
from audit_trail.settings import Settings
from producers import AuditProducer
from schemas import AuditTrailError, SchemaRegistryClient, default_registry, subject_for


class NoSchemaRegistryConfigured(AuditTrailError):
    """A setting needs a schema registry and none is configured."""


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


def producer(settings: Settings) -> AuditProducer:
    """A producer for the event topics, which must exist (MissingTopic otherwise)."""
    bootstrap = require_topics(settings, producer_topics(settings))
    return AuditProducer(
        bootstrap,
        settings.family_topics,
        schema_ids=confluent_schema_ids(settings),
        **kafka_config(settings),
    )
