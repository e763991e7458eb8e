"""From a Kafka record to its trail row: decoded and validated, or a dead letter."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from consumers.batching import Item
from consumers.dead_letters import DeadLetter
from ledger import UnstorableRecord, dead_letter_row, trail_row
from ledger.columns import INDEX
from producers.events import InvalidEvent, event_from_avro
from schemas import AvroCodec, DecodeError

_OCCURRED_AT = INDEX["occurred_at"]


class Sealer(Protocol):
    """Encrypts a row's personal fields (ledger.privacy.RowSealer)."""

    def seal(self, row: tuple[Any, ...]) -> tuple[Any, ...]: ...


def to_item(
    codec: AvroCodec, message: Any, ingested_at: datetime, sealer: Sealer | None = None
) -> Item:
    """Never raises for bad bytes or values: those become a dead letter (and its row)."""
    value: bytes = message.value if message.value is not None else b""
    try:
        decoded = codec.decode(value)
        # The schema fixes the shape; the model checks the values (currency, ranges...).
        event_from_avro(decoded.record)
        row = trail_row(
            decoded.record,
            family=decoded.writer.family,
            schema_version=decoded.writer.version,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            ingested_at=ingested_at,
        )
    except DecodeError as exc:
        return _dead(message, value, exc.reason_code, str(exc), ingested_at)
    except InvalidEvent as exc:
        return _dead(message, value, "invalid_event", str(exc), ingested_at)
    except UnstorableRecord as exc:
        return _dead(message, value, "unstorable", str(exc), ingested_at)
    # Personal fields are encrypted before the row is hashed, so the chain covers the
    # ciphertext and survives crypto-shredding.
    return Item(message.offset, sealer.seal(row) if sealer is not None else row, part=_part(row))


def _part(row: tuple[Any, ...]) -> int:
    when: datetime = row[_OCCURRED_AT]
    return when.year * 100 + when.month


def _dead(message: Any, value: bytes, code: str, reason: str, ingested_at: datetime) -> Item:
    letter = DeadLetter(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=int(message.timestamp or 0),
        key=message.key,
        value=value,
        reason_code=code,
        reason=reason,
    )
    row = dead_letter_row(
        topic=letter.topic,
        partition=letter.partition,
        offset=letter.offset,
        timestamp_ms=letter.timestamp_ms,
        key=letter.key,
        value=letter.value,
        reason_code=code,
        reason=reason,
        ingested_at=ingested_at,
    )
    return Item(letter.offset, row, letter, part=_part(row))
