"""Shared fixtures: the one Kafka broker every integration test talks to.

Order of preference: KAFKA_BOOTSTRAP_SERVERS (an existing broker), testcontainers'
Kafka when a Docker engine answers, else the project's local JVM broker (started if it
is not running, and stopped at the end only if this test run started it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from audit_trail.stack import TopicLayout, ensure_topics, kafka_down, kafka_status, kafka_up
from ledger import EmbeddedStore
from tests.support.coordinator import group_offsets
from tests.support.docker import docker_answers


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    if docker_answers():
        from testcontainers.kafka import KafkaContainer  # type: ignore[import-untyped]

        with KafkaContainer().with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    already_running = kafka_status().running
    bootstrap = kafka_up()
    _wait_for_group_coordinator(bootstrap)
    yield bootstrap
    if not already_running and not os.environ.get("AUDIT_KEEP_STACK"):
        kafka_down()


@pytest.fixture
def topics(kafka_bootstrap: str) -> TopicLayout:
    """Fresh topics for one test, so tests never read each other's events."""
    suffix = uuid.uuid4().hex[:8]
    layout = TopicLayout(
        session=f"test.session-{suffix}",
        transaction=f"test.transaction-{suffix}",
        dead_letter=f"test.dead-letter-{suffix}",
        erasures=f"test.erasures-{suffix}",
    )
    ensure_topics(kafka_bootstrap, layout, partitions=4)
    return layout


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    """An empty, migrated embedded store of the test's own (modules may share one
    instead, by defining a wider-scoped ``store``)."""
    opened = EmbeddedStore(tmp_path / "store")
    opened.migrate()
    yield opened
    opened.close()


def _wait_for_group_coordinator(bootstrap: str) -> None:
    """A fresh broker creates __consumer_offsets on first use; wait until groups work."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        group_offsets(admin, "audit-trail-warmup")
    finally:
        admin.close()
