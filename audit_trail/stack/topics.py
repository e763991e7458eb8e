"""The project's Kafka topic names, and creating them on a broker if they are missing.

Topic names live here, once: producers, consumers, tests and the stack all import
`DEFAULT_TOPICS` instead of repeating string literals. `ensure_topics` works on any broker, the
local stack's or an external one given by KAFKA_BOOTSTRAP_SERVERS.
"""

from __future__ import annotations

import logging
from dataclasses import astuple, dataclass
from typing import Any

from kafka import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError

from .errors import StackError

log = logging.getLogger(__name__)

# Each local stack has one broker, so one replica; external clusters get the same layout so
# tests behave alike on both (raise it in the broker's own provisioning for production).
REPLICATION_FACTOR = 1
_REQUEST_TIMEOUT_MS = 30_000
# Long enough for an external broker that is still starting (CI service containers).
_BOOTSTRAP_TIMEOUT_MS = 30_000
# Creating topics is asynchronous on KRaft: leaders appear a little after the create response.
_READY_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class TopicLayout:
    session: str
    transaction: str
    dead_letter: str

    def names(self) -> tuple[str, ...]:
        return tuple(str(name) for name in astuple(self))


DEFAULT_TOPICS = TopicLayout(
    session="audit.session-events",
    transaction="audit.transaction-events",
    dead_letter="audit.dead-letter",
)


def ensure_topics(bootstrap: str, layout: TopicLayout, partitions: int = 4) -> None:
    """Create every topic of `layout` that does not exist yet, and wait until all have leaders.

    Existing topics are left as they are (even with a different partition count): this only
    fills gaps, it never reconfigures or deletes.
    """
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    names = layout.names()
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="audit-trail-stack-topics",
            request_timeout_ms=_REQUEST_TIMEOUT_MS,
            bootstrap_timeout_ms=_BOOTSTRAP_TIMEOUT_MS,
        )
    except KafkaError as exc:
        raise StackError(
            f"cannot reach Kafka at {bootstrap} within {_BOOTSTRAP_TIMEOUT_MS // 1000}s to "
            f"create topics ({exc!r}); check that the "
            "broker is up (`python -m audit_trail.stack status`) or fix KAFKA_BOOTSTRAP_SERVERS"
        ) from exc
    try:
        _create_missing(admin, bootstrap, names, partitions)
        admin.wait_for_topics(list(names), timeout_ms=_READY_TIMEOUT_MS)
    except KafkaError as exc:
        raise StackError(
            f"creating topics {', '.join(names)} on {bootstrap} failed: {exc!r}; "
            "check the broker log, or that this client may create topics on that cluster"
        ) from exc
    finally:
        admin.close()


def _create_missing(admin: Any, bootstrap: str, names: tuple[str, ...], partitions: int) -> None:
    # Asking to create every topic and tolerating "already exists" per topic avoids a
    # list-then-create race with another process doing the same (parallel test workers).
    request = {
        name: {"num_partitions": partitions, "replication_factor": REPLICATION_FACTOR}
        for name in names
    }
    response = admin.create_topics(request, timeout_ms=_REQUEST_TIMEOUT_MS, raise_errors=False)
    failures: list[str] = []
    for topic in response.get("topics", []):
        code = int(topic.get("error_code", 0))
        if code == 0:
            log.info("Created topic %s (%d partitions) on %s", topic["name"], partitions, bootstrap)
        elif code != TopicAlreadyExistsError.errno:
            message = topic.get("error_message") or f"error code {code}"
            failures.append(f"{topic['name']}: {message}")
    if failures:
        raise StackError(
            f"Kafka at {bootstrap} refused to create topics: {'; '.join(failures)}. "
            "Check the broker's topic policy and ACLs, or create them by hand."
        )
