"""The composition root's helpers: turn settings into connected parts."""

from __future__ import annotations

from audit_trail.settings import Settings
from audit_trail.stack import ensure_topics, kafka_status
from producers import AuditProducer
from schemas import AuditTrailError


class NoBroker(AuditTrailError):
    """No Kafka broker is configured or running."""


def bootstrap_servers(settings: Settings) -> str:
    """The configured broker, else the running local stack's."""
    if settings.kafka_bootstrap_servers:
        return settings.kafka_bootstrap_servers
    status = kafka_status()
    if status.running and status.bootstrap:
        return status.bootstrap
    raise NoBroker(
        "no Kafka broker: set KAFKA_BOOTSTRAP_SERVERS, or start the local one with "
        "`audit-trail stack up`"
    )


def producer(settings: Settings) -> AuditProducer:
    bootstrap = bootstrap_servers(settings)
    ensure_topics(bootstrap, settings.topics, settings.topic_partitions)
    return AuditProducer(bootstrap, settings.family_topics)
