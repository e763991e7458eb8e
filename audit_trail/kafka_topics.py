"""The topics each role needs: created only when an operator asks, checked by everyone else.

A cluster run by a platform team usually denies applications CREATE; and a broker that
auto-creates topics would give a missing one the broker's default retention, breaking the
erasure promise. So `produce`, `simulate`, `consume`, `serve` and `erase` only check that
their topics exist and stop with one line naming the missing topic and the command that
creates it (`audit-trail topics create`, or `migrate --topics`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from audit_trail import local_broker
from audit_trail.kafka_diagnosis import diagnosed
from audit_trail.settings import Settings
from audit_trail.topics import TopicCheck, check_topics, ensure_topics
from schemas import AuditTrailError

log = logging.getLogger(__name__)

CREATE_COMMAND = "audit-trail topics create"


class NoBroker(AuditTrailError):
    """No Kafka broker is configured or running."""


class MissingTopic(AuditTrailError):
    """A topic a command needs does not exist (or this client may not see it)."""


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


def producer_topics(settings: Settings) -> tuple[str, ...]:
    """What a producer writes: the event topics only."""
    return (settings.topic_session, settings.topic_transaction)


def consumer_topics(settings: Settings) -> tuple[str, ...]:
    """What the consumer reads and writes: events, dead letters, erasure notices."""
    return settings.topics.names()


def create_topics(settings: Settings) -> tuple[str, list[str]]:
    """Create the missing topics (partitions, replication factor and retention from the
    settings); the broker, and how existing topics differ from the erasure promise."""
    bootstrap = bootstrap_servers(settings)
    # The first connection a command makes: a refused login or TLS trust is named here.
    with diagnosed(bootstrap, settings.kafka_security):
        problems = ensure_topics(
            bootstrap,
            settings.topics,
            settings.topic_partitions,
            settings.topic_retention_days,
            kafka_config=kafka_config(settings),
            replication_factor=settings.topic_replication_factor,
        )
    return bootstrap, problems


def inspect_topics(settings: Settings, names: Sequence[str]) -> tuple[str, TopicCheck]:
    """The broker, and which of ``names`` it lacks and how the others' configs differ."""
    bootstrap = bootstrap_servers(settings)
    with diagnosed(bootstrap, settings.kafka_security):
        found = check_topics(
            bootstrap,
            settings.topics,
            names,
            settings.topic_retention_days,
            kafka_config=kafka_config(settings),
        )
    return bootstrap, found


def missing_topic(bootstrap: str, missing: Sequence[str]) -> MissingTopic:
    """The one line for topics a command needs and the broker lacks."""
    others = f" (and {', '.join(missing[1:])})" if len(missing) > 1 else ""
    return MissingTopic(
        f"topic {missing[0]}{others} does not exist on {bootstrap} (or this client may not "
        f"describe it): create the topics with `{CREATE_COMMAND}` "
        "(or `audit-trail migrate --topics`; on a managed cluster, ask its operators)"
    )


def require_topics(settings: Settings, names: Sequence[str]) -> str:
    """The broker, once every one of ``names`` is known to exist there; config
    differences are logged as warnings. Raises MissingTopic naming the missing ones."""
    bootstrap, found = inspect_topics(settings, names)
    if found.missing:
        raise missing_topic(bootstrap, found.missing)
    for problem in found.problems:
        log.warning("%s", problem)
    return bootstrap
