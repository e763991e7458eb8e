"""Both framings on one topic, through the real broker into the real embedded store:
single-object from our producer, Confluent framing from librdkafka with confluent-kafka's
AvroSerializer and from our own producer; refused schemas dead-lettered with the reason."""

from __future__ import annotations

import json

import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient as ConfluentClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from typer.testing import CliRunner

from audit_trail import wiring
from audit_trail.cli.app import app
from audit_trail.settings import Settings
from audit_trail.stack import TopicLayout
from ledger import EmbeddedStore, verify
from producers import AuditProducer
from schemas import SESSION_FAMILY, default_registry
from tests.support.ingest import family_topics, offsets_contiguous, service, stored_ids
from tests.support.kafka import read_all
from tests.support.samples import one_of_each
from tests.support.schema_registry import RegistryState, running_registry

pytestmark = pytest.mark.integration


def _env(url: str, topics: TopicLayout, bootstrap: str) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "AUDIT_SCHEMA_REGISTRY_URL": url,
        "AUDIT_SCHEMA_REGISTRY_USER": "ingest",
        "AUDIT_SCHEMA_REGISTRY_PASSWORD": "pw-123",
        "AUDIT_TOPIC_SESSION": topics.session,
        "AUDIT_TOPIC_TRANSACTION": topics.transaction,
        "AUDIT_TOPIC_DEAD_LETTER": topics.dead_letter,
        "AUDIT_TOPIC_ERASURES": topics.erasures,
    }


def test_both_framings_are_ingested_message_by_message(
    kafka_bootstrap: str,
    topics: TopicLayout,
    store: EmbeddedStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with running_registry(user="ingest", password="pw-123") as (url, state):
        _run(kafka_bootstrap, topics, store, monkeypatch, url, state)


def _run(
    bootstrap: str,
    topics: TopicLayout,
    store: EmbeddedStore,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    state: RegistryState,
) -> None:
    for name, value in _env(url, topics, bootstrap).items():
        monkeypatch.setenv(name, value)
    registered = CliRunner().invoke(app, ["schemas", "register"])
    assert registered.exit_code == 0, registered.output
    assert f"subject {topics.session}-value" in registered.output
    assert "pw-123" not in registered.output
    settings = Settings()
    events = [e for e in one_of_each(seed=5).values() if e.family == SESSION_FAMILY][:3]
    key = str(events[0].session_id).encode()  # one partition: offsets in send order
    events = [e.model_copy(update={"session_id": events[0].session_id}) for e in events]

    # 1: librdkafka + Confluent's serializer, the schema already registered by us.
    client = ConfluentClient({"url": url, "basic.auth.user.info": "ingest:pw-123"})
    newest = json.dumps(dict(default_registry().latest(SESSION_FAMILY).source))
    serializer = AvroSerializer(client, newest, conf={"auto.register.schemas": False})
    theirs = serializer(
        events[0].to_avro(), SerializationContext(topics.session, MessageField.VALUE)
    )
    foreign = AvroSerializer(
        client,
        json.dumps({"type": "record", "name": "Other", "fields": [{"name": "a", "type": "long"}]}),
    )({"a": 7}, SerializationContext(topics.session, MessageField.VALUE))
    rdkafka = Producer(
        # Kafka's default partitioner, as docs/contract.md asks of librdkafka clients.
        {"bootstrap.servers": bootstrap, "acks": "all", "partitioner": "murmur2_random"}
    )
    rdkafka.produce(topics.session, key=key, value=theirs)
    rdkafka.produce(topics.session, key=key, value=foreign)
    rdkafka.produce(topics.session, key=key, value=b"\x00" + (4242).to_bytes(4, "big") + b"\x02")
    assert rdkafka.flush(30) == 0
    # 2: our producer, single-object; 3: our producer, Confluent framing (ids looked up).
    with AuditProducer(bootstrap, family_topics(topics)) as ours:
        ours.send(events[1]).result()
    ids = wiring.confluent_schema_ids(settings.model_copy(update={"producer_framing": "confluent"}))
    with AuditProducer(bootstrap, family_topics(topics), schema_ids=ids) as ours:
        ours.send(events[2]).result()

    ingest = service(bootstrap, topics, store, codec=wiring.consumer_codec(settings))
    ingest.run(until_idle=True)
    assert sorted(stored_ids(store, topics)) == sorted(str(e.event_id) for e in events)
    letters = read_all(bootstrap, topics.dead_letter, expected=2)
    reasons = [dict(r.headers)["dlq.reason_code"].decode() for r in letters]
    assert reasons == ["unaccepted_schema", "unknown_schema_id"]
    assert offsets_contiguous(store, topics.session)
    assert verify(store, [topics.session]).ok
    # Each schema id was fetched once, however many messages carried it.
    fetched = [h for h in state.hits if h.startswith("GET /schemas/ids/")]
    assert len(fetched) == len(set(fetched))
