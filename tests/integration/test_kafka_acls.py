"""The consumer and producer on a cluster that enforces ACLs, as a user without CREATE.

A broker of the test's own (the shared one is never touched): the local stack with its
SASL_SSL listener and KRaft's StandardAuthorizer (AUDIT_STACK_ACLS). The loopback
PLAINTEXT listener is the operator (a super user); the SCRAM user is the application,
granted READ, WRITE and DESCRIBE on its topics and READ on its consumer group, nothing else.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.admin import (
    ACL,
    ACLOperation,
    ACLPermissionType,
    ResourcePattern,
    ResourceType,
)

from audit_trail import wiring
from audit_trail.kafka_topics import MissingTopic, create_topics
from audit_trail.settings import Settings
from audit_trail.stack.secure_listener import USER
from audit_trail.topics import TopicsError
from consumers import IngestMetrics
from ledger import EmbeddedStore
from tests.support.samples import one_of_each
from tests.support.secure_broker import SecureBroker, scram_settings, secure_broker

pytestmark = pytest.mark.integration
CLI = [sys.executable, "-m", "audit_trail.cli"]


@pytest.fixture(scope="module")
def acl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    with secure_broker(tmp_path_factory.mktemp("acl-stack"), acls=True) as broker:
        yield broker


def _app_settings(broker: SecureBroker, tmp_path: Path) -> Settings:
    return scram_settings(broker.client, tmp_path / "store", "acl", "SCRAM-SHA-256")


def _operator(broker: SecureBroker, app: Settings) -> Settings:
    """The same topics, as the operator: the PLAINTEXT listener's super user."""
    return app.model_copy(
        update={
            "kafka_bootstrap_servers": broker.admin_bootstrap,
            "kafka_security_protocol": "PLAINTEXT",
            "kafka_sasl_mechanism": None,
            "kafka_sasl_username": None,
            "kafka_sasl_password": None,
            "kafka_ssl_cafile": None,
        }
    )


def _cli_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    password = settings.kafka_sasl_password
    assert password is not None
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": str(settings.kafka_bootstrap_servers),
        "AUDIT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "AUDIT_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
        "AUDIT_KAFKA_SASL_USERNAME": str(settings.kafka_sasl_username),
        "AUDIT_KAFKA_SASL_PASSWORD": password.get_secret_value(),
        "AUDIT_KAFKA_SSL_CAFILE": str(settings.kafka_ssl_cafile),
        "AUDIT_TOPIC_SESSION": settings.topic_session,
        "AUDIT_TOPIC_TRANSACTION": settings.topic_transaction,
        "AUDIT_TOPIC_DEAD_LETTER": settings.topic_dead_letter,
        "AUDIT_TOPIC_ERASURES": settings.topic_erasures,
        "AUDIT_DATA_DIR": str(tmp_path / "cli-store"),
    }


def _grant_read_write(broker: SecureBroker, settings: Settings) -> None:
    """What a platform team grants an application: no CREATE, no cluster rights."""
    user = f"User:{USER}"
    allow = ACLPermissionType.ALLOW
    acls = [
        ACL(user, "*", operation, allow, ResourcePattern(ResourceType.TOPIC, topic))
        for topic in settings.topics.names()
        for operation in (ACLOperation.READ, ACLOperation.WRITE, ACLOperation.DESCRIBE)
    ]
    group = ResourcePattern(ResourceType.GROUP, settings.consumer_group)
    acls.append(ACL(user, "*", ACLOperation.READ, allow, group))
    admin = KafkaAdminClient(bootstrap_servers=broker.admin_bootstrap)
    try:
        result = admin.create_acls(acls)
    finally:
        admin.close()
    assert not result["failed"], result["failed"]


def test_a_user_without_create_produces_and_ingests(
    acl_broker: SecureBroker, tmp_path: Path
) -> None:
    app = _app_settings(acl_broker, tmp_path)
    _grant_read_write(acl_broker, app)

    # The application may not create topics: the broker enforces it (not a vacuous test).
    with pytest.raises(TopicsError, match="refused to create topics"):
        create_topics(app)
    # Without the topics, the producer stops with the one line (nothing auto-created).
    with pytest.raises(MissingTopic, match=f"topic {app.topic_session} .*topics create"):
        wiring.producer(app)
    out = subprocess.run(
        [*CLI, "simulate", "--sessions", "2"], env=_cli_env(app, tmp_path),
        capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.returncode == 1 and len(lines) == 1, out.stderr
    assert f"topic {app.topic_session}" in lines[0] and "audit-trail topics create" in lines[0]
    assert app.kafka_sasl_password is not None
    assert app.kafka_sasl_password.get_secret_value() not in out.stderr

    # The operator creates them (PLAINTEXT, a super user), as `topics create` does.
    operator = _operator(acl_broker, app)
    _, problems = create_topics(operator)
    assert problems == []

    events = list(one_of_each(seed=11).values())
    with wiring.producer(app) as producer:
        for event in events:
            producer.send(event)
    store = EmbeddedStore(app.data_dir)
    store.migrate()
    try:
        # Consumer, dead-letter producer, erasure feed and partition facts, all as the user.
        ingest = wiring.ingest_service(app, store, IngestMetrics())
        ingest.run(until_idle=True)
        assert ingest.stats.rows == len(events)
        assert ingest.stats.dead_letters == 0
    finally:
        store.close()


def test_a_topic_the_user_may_not_describe_reads_as_missing_in_one_line(
    acl_broker: SecureBroker, tmp_path: Path
) -> None:
    """Another team's topics (created, no grant for this user): the one line, no traceback
    of an authorization error, and nothing sent."""
    app = _app_settings(acl_broker, tmp_path)
    operator = _operator(acl_broker, app)
    create_topics(operator)
    with pytest.raises(MissingTopic, match="may not describe it") as caught:
        wiring.producer(app)
    assert "\n" not in str(caught.value)
