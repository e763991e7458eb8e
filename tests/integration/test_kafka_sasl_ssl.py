"""Every Kafka client of the project over SASL_SSL (SCRAM) on a broker of the test's own:
the local stack with its SASL_SSL listener, in a stack folder of its own (the shared broker
is never touched). A wrong password and an untrusted CA each give one clear error."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audit_trail import wiring
from audit_trail.kafka_diagnosis import KafkaConnectionRefused
from audit_trail.kafka_topics import create_topics
from audit_trail.settings import Settings
from audit_trail.stack import kafka_down, kafka_up
from audit_trail.stack.secure_listener import ENV_SASL_SSL, client_settings
from consumers import IngestMetrics
from ledger import EmbeddedStore
from tests.support.samples import one_of_each

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("sasl-stack")
    with pytest.MonkeyPatch.context() as env:
        env.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
        env.setenv("AUDIT_STACK_DIR", str(root))
        env.setenv(ENV_SASL_SSL, "1")
        kafka_up(timeout_s=180)
        try:
            yield client_settings(root / "sasl_ssl")
        finally:
            kafka_down()


def _settings(client: dict[str, Any], tmp_path: Path, **override: Any) -> Settings:
    suffix = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "KAFKA_BOOTSTRAP_SERVERS": client["bootstrap"],  # the field's alias
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_sasl_username": client["username"],
        "kafka_sasl_password": client["password"],
        "kafka_ssl_cafile": client["ca_file"],
        "topic_session": f"sec.session-{suffix}",
        "topic_transaction": f"sec.transaction-{suffix}",
        "topic_dead_letter": f"sec.dead-letter-{suffix}",
        "topic_erasures": f"sec.erasures-{suffix}",
        "consumer_group": f"sec-{suffix}",
        "data_dir": tmp_path / "store",
        "consumer_session_timeout_ms": 6000,
    }
    values.update(override)
    return Settings.model_validate(values)


def test_send_and_ingest_over_sasl_ssl(secure_broker: dict[str, Any], tmp_path: Path) -> None:
    settings = _settings(secure_broker, tmp_path)
    events = list(one_of_each(seed=8).values())
    create_topics(settings)  # admin over SASL_SSL (no ACLs on this broker)
    with wiring.producer(settings) as producer:  # admin (topic check) + producer
        for event in events:
            producer.send(event)
    store = EmbeddedStore(settings.data_dir)
    store.migrate()
    try:
        # consumer, dead-letter producer and erasure feed, all over SASL_SSL
        ingest = wiring.ingest_service(settings, store, IngestMetrics())
        ingest.run(until_idle=True)
        assert ingest.stats.rows == len(events)
    finally:
        store.close()


def test_a_wrong_password_is_one_clear_error(secure_broker: dict[str, Any], tmp_path: Path) -> None:
    settings = _settings(secure_broker, tmp_path, kafka_sasl_password="not-the-password")
    with pytest.raises(
        KafkaConnectionRefused,
        match="refused the login of user 'audit-trail' "
        r"\(SCRAM-SHA-512\): check AUDIT_KAFKA_SASL_USERNAME",
    ) as caught:
        wiring.producer(settings)
    assert "not-the-password" not in str(caught.value) and "\n" not in str(caught.value)


def test_an_untrusted_ca_is_one_clear_error(secure_broker: dict[str, Any], tmp_path: Path) -> None:
    # No CA file: the system's trust store, which has never heard of the stack's CA.
    settings = _settings(secure_broker, tmp_path, kafka_ssl_cafile=None)
    with pytest.raises(
        KafkaConnectionRefused,
        match="not signed by a CA in the system's trust store: set AUDIT_KAFKA_SSL_CAFILE",
    ):
        wiring.producer(settings)
