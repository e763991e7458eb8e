"""Every Kafka client of the project over SASL_SSL (SCRAM) on a broker of the test's own:
the local stack with its SASL_SSL listener, in a stack folder of its own (the shared broker
is never touched). A wrong password and an untrusted CA each give one clear error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audit_trail import wiring
from audit_trail.kafka_diagnosis import KafkaConnectionRefused
from audit_trail.kafka_topics import create_topics
from audit_trail.settings import Settings
from consumers import IngestMetrics
from ledger import EmbeddedStore
from tests.support.samples import one_of_each
from tests.support.secure_broker import scram_settings, secure_broker

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with secure_broker(tmp_path_factory.mktemp("sasl-stack")) as broker:
        yield broker.client


def _settings(client: dict[str, Any], tmp_path: Path, **override: Any) -> Settings:
    return scram_settings(client, tmp_path / "store", "sec", "SCRAM-SHA-512", **override)


def test_send_and_ingest_over_sasl_ssl(secure: dict[str, Any], tmp_path: Path) -> None:
    settings = _settings(secure, tmp_path)
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


def test_a_wrong_password_is_one_clear_error(secure: dict[str, Any], tmp_path: Path) -> None:
    settings = _settings(secure, tmp_path, kafka_sasl_password="not-the-password")
    with pytest.raises(
        KafkaConnectionRefused,
        # The client sees the broker's refusal, or (on a busy machine) only its close.
        match="(refused the login|closed every connection at the login) of user "
        r"'audit-trail' \(SCRAM-SHA-512\): check AUDIT_KAFKA_SASL_USERNAME",
    ) as caught:
        wiring.producer(settings)
    assert "not-the-password" not in str(caught.value) and "\n" not in str(caught.value)


def test_an_untrusted_ca_is_one_clear_error(secure: dict[str, Any], tmp_path: Path) -> None:
    # No CA file: the system's trust store, which has never heard of the stack's CA.
    settings = _settings(secure, tmp_path, kafka_ssl_cafile=None)
    with pytest.raises(
        KafkaConnectionRefused,
        match="not signed by a CA in the system's trust store: set AUDIT_KAFKA_SSL_CAFILE",
    ):
        wiring.producer(settings)
