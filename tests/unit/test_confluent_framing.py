"""The Confluent wire format: bytes written by an independent serializer (confluent-kafka's
AvroSerializer) through a registry are read message by message beside single-object ones;
a registered schema counts only as far as our contract accepts it."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient as ConfluentClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from producers.producer import EventEncoder
from schemas import (
    SESSION_FAMILY,
    TRANSACTION_FAMILY,
    AvroCodec,
    ConfluentSchemas,
    RegistryRefused,
    RegistryUnavailable,
    SchemaRegistryClient,
    UnacceptedSchema,
    UnknownSchemaId,
    default_registry,
)
from tests.support.samples import one_of_each
from tests.support.schema_registry import RegistryState, running_registry

TOPIC = "t.session"
TOPICS = {SESSION_FAMILY: TOPIC, TRANSACTION_FAMILY: "t.transaction"}


@pytest.fixture
def registry() -> Iterator[tuple[str, RegistryState]]:
    with running_registry() as served:
        yield served


def _codec(url: str, **client: Any) -> AvroCodec:
    codec = AvroCodec()
    codec.registry_schemas = ConfluentSchemas(SchemaRegistryClient(url, **client), codec.registry)
    return codec


def _confluent_bytes(url: str, schema: dict[str, Any], record: dict[str, Any]) -> bytes:
    """``record`` as confluent-kafka's own serializer writes it (registering ``schema``)."""
    serializer = AvroSerializer(ConfluentClient({"url": url}), json.dumps(schema))
    data = serializer(record, SerializationContext(TOPIC, MessageField.VALUE))
    assert data is not None
    return bytes(data)


def _session_event() -> Any:
    return one_of_each()["participant_joined"]


def test_an_independent_serializers_message_decodes_like_single_object(
    registry: tuple[str, RegistryState],
) -> None:
    url, state = registry
    event = _session_event()
    newest = default_registry().latest(SESSION_FAMILY)
    framed = _confluent_bytes(url, dict(newest.source), event.to_avro())
    assert framed[0] == 0 and state.subjects == {f"{TOPIC}-value": [1]}
    codec = _codec(url)
    single = codec.encode(SESSION_FAMILY, event.to_avro())
    # Message by message, both framings through one codec.
    from_confluent, from_single = codec.decode(framed), codec.decode(single)
    assert from_confluent.record == from_single.record
    assert from_confluent.writer is newest


def test_schema_ids_are_cached_including_unknown_ones(
    registry: tuple[str, RegistryState],
) -> None:
    url, state = registry
    event = _session_event()
    framed = _confluent_bytes(
        url, dict(default_registry().latest(SESSION_FAMILY).source), event.to_avro()
    )
    codec = _codec(url)
    state.hits.clear()
    for _ in range(3):
        codec.decode(framed)
    unknown = b"\x00" + (999).to_bytes(4, "big") + framed[5:]
    for _ in range(3):
        with pytest.raises(UnknownSchemaId, match="schema id 999"):
            codec.decode(unknown)
    assert state.hits == ["GET /schemas/ids/1", "GET /schemas/ids/999"]


def test_a_backward_compatible_schema_that_is_not_ours_is_read_into_our_newest(
    registry: tuple[str, RegistryState],
) -> None:
    url, _ = registry
    event = _session_event()
    newest = default_registry().latest(SESSION_FAMILY)
    wider = copy.deepcopy(dict(newest.source))
    wider["fields"].append({"name": "extra_note", "type": "string", "default": ""})
    record = {**event.to_avro(), "extra_note": "ignored by our reader"}
    decoded = _codec(url).decode(_confluent_bytes(url, wider, record))
    assert decoded.writer.family == SESSION_FAMILY and decoded.writer is not newest
    assert (
        decoded.record
        == AvroCodec().decode(AvroCodec().encode(SESSION_FAMILY, event.to_avro())).record
    )


def test_an_incompatible_or_foreign_schema_is_refused_with_the_reason(
    registry: tuple[str, RegistryState],
) -> None:
    url, state = registry
    newest = default_registry().latest(SESSION_FAMILY)
    narrower = copy.deepcopy(dict(newest.source))
    dropped = narrower["fields"].pop(0)  # our reader needs it; no default
    foreign = {"type": "record", "name": "Other", "fields": [{"name": "a", "type": "long"}]}
    codec = _codec(url)
    bad_id = state.add(f"{TOPIC}-value", json.dumps(narrower))
    with pytest.raises(UnacceptedSchema, match=f"cannot read it: .*{dropped['name']}") as caught:
        codec.decode(b"\x00" + bad_id.to_bytes(4, "big") + b"\x00")
    assert caught.value.reason_code == "unaccepted_schema"
    foreign_bytes = _confluent_bytes(url, foreign, {"a": 1})
    with pytest.raises(UnacceptedSchema, match="'Other', none of our event families"):
        codec.decode(foreign_bytes)
    junk_id = state.add("x-value", "not json")
    with pytest.raises(UnacceptedSchema, match="not a valid Avro schema"):
        codec.decode(b"\x00" + junk_id.to_bytes(4, "big"))


def test_wrong_registry_credentials_stop_with_one_line_and_no_password() -> None:
    with running_registry(user="svc", password="right") as (url, _):
        codec = _codec(url, user="svc", password="s3cret-wrong")
        with pytest.raises(RegistryRefused, match="HTTP 401") as caught:
            codec.decode(b"\x00\x00\x00\x00\x01\x00")
        assert "s3cret" not in str(caught.value) and "\n" not in str(caught.value)
        good = _codec(url, user="svc", password="right")
        with pytest.raises(UnknownSchemaId):  # authorized: the id is simply not there
            good.decode(b"\x00\x00\x00\x00\x01\x00")


def test_a_registry_outage_is_retriable_never_a_dead_letter(
    registry: tuple[str, RegistryState],
) -> None:
    url, state = registry
    state.failing = True
    codec = AvroCodec()
    codec.registry_schemas = ConfluentSchemas(SchemaRegistryClient(url, attempts=2), codec.registry)
    with pytest.raises(RegistryUnavailable, match="HTTP 503"):
        codec.decode(b"\x00\x00\x00\x00\x01\x00")
    state.failing = False  # not cached: the next message asks again
    with pytest.raises(UnknownSchemaId):
        codec.decode(b"\x00\x00\x00\x00\x01\x00")
    with pytest.raises(RegistryUnavailable, match="does not answer"):
        SchemaRegistryClient("http://127.0.0.1:9", attempts=1).schema_text(1)
    with pytest.raises(RegistryRefused, match="not an http"):
        SchemaRegistryClient("ftp://registry")


def test_our_confluent_framing_is_read_by_confluents_deserializer(
    registry: tuple[str, RegistryState],
) -> None:
    url, state = registry
    ids = {
        family: state.add(f"{TOPICS[family]}-value", json.dumps(dict(version.source)))
        for family in TOPICS
        for version in default_registry().versions(family)
    }
    event = _session_event()
    topic, _key, value = EventEncoder(TOPICS, schema_ids=ids).encode(event)
    assert value[:5] == b"\x00" + ids[SESSION_FAMILY].to_bytes(4, "big")
    theirs = AvroDeserializer(ConfluentClient({"url": url}))(
        value, SerializationContext(topic, MessageField.VALUE)
    )
    assert theirs is not None and str(theirs["event_id"]) == str(event.event_id)
    assert (
        _codec(url).decode(value).record
        == AvroCodec().decode(AvroCodec().encode(SESSION_FAMILY, event.to_avro())).record
    )


def test_credentials_in_the_registry_url_are_used_and_never_shown() -> None:
    with running_registry(user="svc", password="p@ss") as (url, _):
        host = url.removeprefix("http://")
        client = SchemaRegistryClient(f"http://svc:p%40ss@{host}")
        assert client.url == url
        with pytest.raises(UnknownSchemaId) as caught:  # authorized, the id is not there
            client.schema_text(7)
        assert "p@ss" not in str(caught.value) and "svc:" not in str(caught.value)
