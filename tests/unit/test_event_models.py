"""The typed models: strict validation, and the same fields as the Avro records."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from producers.events import (
    EVENT_TYPES,
    Actor,
    InvalidEvent,
    NoteSaved,
    PaymentAttempted,
    Source,
    parse_event_json,
)
from schemas import default_registry
from schemas.events.envelope import ENVELOPE_FIELDS
from tests.support.samples import one_of_each

FORBIDDEN_CONTENT = {"text", "content", "body", "note_text", "message_text", "file_bytes", "data"}


def _payment(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "occurred_at": datetime(2026, 11, 2, 10, tzinfo=UTC),
        "session_id": uuid.uuid4(),
        "actor": Actor(id="client-1", role="client"),
        "source": Source(service="payments-service", version="2.0.0"),
        "transaction_id": uuid.uuid4(),
        "booking_id": uuid.uuid4(),
        "payer_id": "client-1",
        "payer_name": "Ana Pop",
        "amount_minor": 6000,
        "currency": "EUR",
        "method": "card",
        "processor": "stripe",
        "attempt_number": 1,
    }
    return fields | overrides


def _avro_record_fields(family: str, name: str) -> set[str]:
    schema = default_registry().latest(family).source
    payload = next(f for f in schema["fields"] if f["name"] == "payload")
    record = next(r for r in payload["type"] if r["name"] == name)
    return {f["name"] for f in record["fields"]}


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_model_fields_equal_avro_record_fields(event_type: str) -> None:
    cls = EVENT_TYPES[event_type]
    payload = set(cls.model_fields) - set(ENVELOPE_FIELDS)
    assert payload == _avro_record_fields(cls.family, cls.__name__)
    assert not payload & FORBIDDEN_CONTENT, "the trail never carries content"


def test_catalogue_covers_the_seed() -> None:
    # The seed's types stay; later schema versions add others (schemas/catalogue.py).
    assert set(EVENT_TYPES) >= {
        "booking_initiated", "booking_confirmed", "booking_cancelled", "booking_rescheduled",
        "payment_attempted", "payment_succeeded", "payment_failed", "refund_issued",
        "session_access_attempted", "participant_joined", "participant_left",
        "participant_disconnected", "participant_reconnected", "session_completed",
        "note_saved", "file_transferred", "chat_message_sent", "session_rated",
    }  # fmt: skip


def test_valid_payment_builds() -> None:
    event = PaymentAttempted(**_payment())
    assert event.event_type == "payment_attempted"
    assert event.key == str(event.session_id).encode()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"occurred_at": datetime(2026, 11, 2, 10)}, "occurred_at"),  # naive
        ({"currency": "EUX"}, "currency"),
        ({"currency": "eur"}, "currency"),
        ({"amount_minor": -1}, "amount_minor"),
        ({"amount_minor": 10.5}, "amount_minor"),
        ({"session_id": "not-a-uuid"}, "session_id"),
        ({"payer_name": "x" * 201}, "payer_name"),
        ({"payer_id": "a'; DROP TABLE trail; --"}, "payer_id"),
        ({"method": "cash"}, "method"),
        ({"attempt_number": 0}, "attempt_number"),
        ({"payer_email": "not an email"}, "payer_email"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_values_name_the_field(override: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PaymentAttempted(**_payment(**override))
    assert field in {str(e["loc"][0]) for e in caught.value.errors()}


def test_role_is_a_closed_set() -> None:
    with pytest.raises(ValidationError, match="role"):
        Actor(id="x", role="admin")  # type: ignore[arg-type]


def test_note_content_digest_must_be_sha256() -> None:
    sample = one_of_each()["note_saved"]
    data = sample.model_dump() | {"content_sha256": "my secret note"}
    with pytest.raises(ValidationError, match="content_sha256"):
        NoteSaved.model_validate(data)


def test_json_lines_parse_and_name_problems() -> None:
    for event in one_of_each().values():
        assert parse_event_json(event.model_dump_json()) == event
    with pytest.raises(InvalidEvent) as caught:
        parse_event_json('{"event_type": "payment_attempted", "currency": "EUR"}')
    assert any(line.startswith("payment_attempted.session_id") for line in caught.value.errors)
    with pytest.raises(InvalidEvent, match="event_type"):
        parse_event_json('{"event_type": "coffee_brewed"}')
    with pytest.raises(InvalidEvent, match="JSON"):
        parse_event_json("{not json")
