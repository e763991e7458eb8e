"""Creating the project's Kafka topics on a broker if they are missing.

Runtime code (settings, wiring), not the local stack (development tooling, which imports
this), owns topic names (`topic_layout`) and their creation. `ensure_topics` works on any
broker, the local stack's or an external one given by KAFKA_BOOTSTRAP_SERVERS. Topics it
creates carry the retention of the erasure promise (`topic_configs`); topics that exist already are
checked against it and reported, never changed. Only `audit-trail topics create`,
`migrate --topics` and the local stack create topics; every other command uses
`check_topics` and stops when one is missing (a cluster may deny this client CREATE).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import KafkaError, TopicAlreadyExistsError

from audit_trail import topic_configs
from audit_trail.topic_configs import DEFAULT_RETENTION_DAYS, TopicConfigs
from audit_trail.topic_layout import DEFAULT_TOPICS, TopicLayout, TopicsError

__all__ = [
    "DEFAULT_TOPICS",
    "TopicCheck",
    "TopicLayout",
    "TopicsError",
    "check_topics",
    "ensure_topics",
]

log = logging.getLogger(__name__)

# Each local stack has one broker, so one replica; production clusters set
# AUDIT_TOPIC_REPLICATION_FACTOR for `audit-trail topics create`.
REPLICATION_FACTOR = 1
_REQUEST_TIMEOUT_MS = 30_000
# Long enough for an external broker that is still starting (CI service containers).
_BOOTSTRAP_TIMEOUT_MS = 30_000
# Creating topics is asynchronous on KRaft: leaders appear a little after the create response.
_READY_TIMEOUT_MS = 30_000


def ensure_topics(
    bootstrap: str,
    layout: TopicLayout,
    partitions: int = 4,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    kafka_config: Mapping[str, Any] | None = None,
    replication_factor: int = REPLICATION_FACTOR,
) -> list[str]:
    """Create every topic of `layout` that does not exist yet, and wait until all have leaders.

    Existing topics are left as they are (even with a different partition count or
    retention): this only fills gaps, it never reconfigures or deletes. Returns how
    existing topics break the erasure promise (`topic_configs.check`), for the caller to
    report. ``kafka_config``: the connection's security arguments (TLS, SASL).
    """
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    configs = layout.configs(retention_days)
    names = layout.names()
    admin = _admin(bootstrap, kafka_config, "create topics")
    try:
        _create_missing(
            admin, bootstrap, configs, (partitions, replication_factor), layout.erasures
        )
        admin.wait_for_topics(list(names), timeout_ms=_READY_TIMEOUT_MS)
        problems = _check_existing(admin, configs)
    except KafkaError as exc:
        raise TopicsError(
            f"creating topics {', '.join(names)} on {bootstrap} failed: {exc!r}; "
            "check the broker log, or that this client may create topics on that cluster"
        ) from exc
    finally:
        admin.close()
    return problems


@dataclass(frozen=True)
class TopicCheck:
    """What a command found of the topics it needs, without creating any."""

    missing: tuple[str, ...]  # absent, or not visible to this client (no DESCRIBE right)
    problems: tuple[str, ...]  # how present ones break the erasure promise


def check_topics(
    bootstrap: str,
    layout: TopicLayout,
    names: Sequence[str],
    retention_days: int = DEFAULT_RETENTION_DAYS,
    kafka_config: Mapping[str, Any] | None = None,
) -> TopicCheck:
    """Which of ``names`` (topics of ``layout``) the broker lacks, and how the others'
    configs differ from the erasure promise. Creates nothing: a cluster where this client
    may not create topics is served as well as one where it may."""
    admin = _admin(bootstrap, kafka_config, "look up topics")
    try:
        # All topics the client may describe: asking for named topics could auto-create
        # them on a broker with auto.create.topics.enable (default retention: wrong).
        listed = set(admin.list_topics())
        missing = tuple(name for name in names if name not in listed)
        wanted = layout.configs(retention_days)
        present = {name: wanted[name] for name in names if name in listed}
        problems = _check_existing(admin, present) if present and not missing else []
    except KafkaError as exc:
        raise TopicsError(
            f"looking up topics {', '.join(names)} on {bootstrap} failed: {exc!r}; "
            "check the broker log, or that this client may describe those topics"
        ) from exc
    finally:
        admin.close()
    return TopicCheck(missing, tuple(problems))


def _admin(bootstrap: str, kafka_config: Mapping[str, Any] | None, purpose: str) -> Any:
    try:
        return KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="audit-trail-topics",
            request_timeout_ms=_REQUEST_TIMEOUT_MS,
            bootstrap_timeout_ms=_BOOTSTRAP_TIMEOUT_MS,
            **(kafka_config or {}),
        )
    except KafkaError as exc:
        raise TopicsError(
            f"cannot reach Kafka at {bootstrap} within {_BOOTSTRAP_TIMEOUT_MS // 1000}s to "
            f"{purpose} ({exc!r}); check that the "
            "broker is up (`audit-trail stack status` for the local one) or fix "
            "KAFKA_BOOTSTRAP_SERVERS"
        ) from exc


def _create_missing(
    admin: Any,
    bootstrap: str,
    configs: dict[str, TopicConfigs],
    shape: tuple[int, int],
    erasures: str,
) -> None:
    # Asking to create every topic and tolerating "already exists" per topic avoids a
    # list-then-create race with another process doing the same (parallel test workers).
    # Erasure notices are few and read whole at every start: one partition keeps them in
    # the order they were published.
    partitions, replication_factor = shape
    request = {
        name: {
            "num_partitions": 1 if name == erasures else partitions,
            "replication_factor": replication_factor,
            "configs": wanted,
        }
        for name, wanted in configs.items()
    }
    response = admin.create_topics(request, timeout_ms=_REQUEST_TIMEOUT_MS, raise_errors=False)
    failures: list[str] = []
    for topic in response.get("topics", []):
        code = int(topic.get("error_code", 0))
        if code == 0:
            log.info("Created topic %s on %s", topic["name"], bootstrap)
        elif code != TopicAlreadyExistsError.errno:
            message = topic.get("error_message") or f"error code {code}"
            failures.append(f"{topic['name']}: {message}")
    if failures:
        raise TopicsError(
            f"Kafka at {bootstrap} refused to create topics: {'; '.join(failures)}. "
            "Check the broker's topic policy and ACLs, or create them by hand."
        )


def _check_existing(admin: Any, configs: dict[str, TopicConfigs]) -> list[str]:
    """How each topic's effective configs differ from what the erasure promise needs."""
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in configs]
    try:
        described = admin.describe_configs(resources, config_filter="all").get("topic", {})
    except KafkaError as exc:
        # Not fatal: a client may create and use topics without DescribeConfigs rights.
        return [
            f"cannot read the configs of {', '.join(configs)} ({exc!r}): check their "
            "retention by hand (README: personal data, erasure and retention)"
        ]
    problems: list[str] = []
    for name, wanted in configs.items():
        entries = described.get(name) or {}
        found = {key: str(entry.get("value")) for key, entry in entries.items()}
        if not found:
            problems.append(f"topic {name}: the broker did not describe its configs")
            continue
        problems.extend(topic_configs.check(name, wanted, found))
    return problems
