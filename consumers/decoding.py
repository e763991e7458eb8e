"""From a Kafka record to either a decoded, validated event or a dead letter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from producers.events import InvalidEvent, event_from_avro
from schemas import AvroCodec, DecodeError, SchemaVersion

from consumers.dead_letters import DeadLetter


@dataclass(frozen=True)
class Accepted:
    record: dict[str, Any]
    writer: SchemaVersion


def decode_record(codec: AvroCodec, message: Any) -> Accepted | DeadLetter:
    """Decode and validate one Kafka record; never raises for bad bytes or values."""
    value: bytes = message.value if message.value is not None else b""
    try:
        decoded = codec.decode(value)
        # The schema says the shape; the model says the values (currency, ranges, ...).
        event_from_avro(decoded.record)
    except DecodeError as exc:
        return _letter(message, value, exc.reason_code, str(exc))
    except InvalidEvent as exc:
        return _letter(message, value, "invalid_event", str(exc))
    return Accepted(decoded.record, decoded.writer)


def _letter(message: Any, value: bytes, code: str, reason: str) -> DeadLetter:
    return DeadLetter(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=int(message.timestamp or 0),
        key=message.key,
        value=value,
        reason_code=code,
        reason=reason,
    )
