"""The producer's encoding on exact bytes: ``to_avro`` without ``model_dump`` writes the same.

Reference = the record built with ``model_dump`` (the original ``to_avro``), encoded by
fastavro through ``AvroCodec``.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from producers import EventEncoder
from producers.events import Event
from producers.simulation import simulate
from schemas import SESSION_FAMILY, TRANSACTION_FAMILY, AvroCodec, EncodeError
from schemas.events.envelope import ENVELOPE_FIELDS
from tests.support.samples import one_of_each

DAY = datetime(2026, 11, 2, tzinfo=UTC)
TOPICS = {SESSION_FAMILY: "s", TRANSACTION_FAMILY: "t"}


def _reference_record(event: Event) -> dict[str, Any]:
    envelope = event.model_dump(include=set(ENVELOPE_FIELDS))
    envelope["event_id"] = str(event.event_id)
    envelope["session_id"] = str(event.session_id)
    payload = {
        k: str(v) if isinstance(v, uuid.UUID) else v
        for k, v in event.model_dump(exclude=set(ENVELOPE_FIELDS)).items()
    }
    return envelope | {"payload": (event.avro_name(), payload)}


def _reference_bytes(event: Event) -> bytes:
    return AvroCodec().encode(event.family, _reference_record(event))


def _corpus() -> list[Event]:
    return list(one_of_each().values()) + list(itertools.islice(simulate(150, 7, DAY), 3000))


@pytest.fixture(scope="module")
def corpus() -> list[Event]:
    return _corpus()


def test_to_avro_and_payload_equal_the_model_dump_records(corpus: list[Event]) -> None:
    for event in corpus:
        assert event.to_avro() == _reference_record(event)
        assert event.payload() == event.model_dump(exclude=set(ENVELOPE_FIELDS))


def test_encoder_writes_the_reference_bytes(corpus: list[Event]) -> None:
    encoder, codec = EventEncoder(TOPICS), AvroCodec()
    assert any(e.device is None for e in corpus) and any(e.device for e in corpus)
    assert any(e.network is None for e in corpus) and any(e.network for e in corpus)
    for event in corpus:
        expected = _reference_bytes(event)
        topic, key, value = encoder.encode(event)
        assert value == expected, event.event_type
        assert (topic, key) == (TOPICS[event.family], str(event.session_id).encode())
        assert codec.encode(event.family, event.to_avro()) == expected


def _constructed(event: Event, **changes: Any) -> Event:
    """``event`` with ``changes``, unvalidated (what ``model_construct`` lets through)."""
    return type(event).model_construct(**(dict(event.__dict__) | changes))


@pytest.mark.parametrize(
    "changes",
    [
        {"offline_ms": "12"},
        {"offline_ms": 2**63},
        {"participant_role": "nobody"},
        {"participant_id": None},
        {"actor": {"id": "x", "role": "admin"}},
    ],
)
def test_bad_values_still_raise_encode_error(changes: dict[str, Any]) -> None:
    event = _constructed(one_of_each()["participant_reconnected"], **changes)
    with pytest.raises(EncodeError):
        EventEncoder(TOPICS).encode(event)
