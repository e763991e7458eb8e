"""From a Kafka record to its trail row: decoded and validated, or a dead letter."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from consumers.batching import Item
from consumers.dead_letters import DeadLetter
from consumers.envelope import PayloadTypeMismatch, check_payload_type, envelope_flags
from ledger import UnstorableRecord, dead_letter_row, trail_row
from ledger.rows import with_envelope_flags
from ledger.trail_row import TrailRow
from schemas import AvroCodec, DecodeError
from schemas.events.checks import check_avro_values
from schemas.events.parsing import InvalidEvent


class Sealer(Protocol):
    """Encrypts a row's personal fields (ledger.privacy.RowSealer)."""

    def seal(self, row: TrailRow) -> TrailRow: ...


def to_item(
    codec: AvroCodec,
    message: Any,
    ingested_at: datetime,
    sealer: Sealer | None = None,
    partitions: int | None = None,
) -> Item:
    """Never raises for bad bytes or values: those become a dead letter (and its row).

    ``partitions``: the topic's partition count, to check the event sits in its
    session's partition (``consumers.envelope``); None skips that check.
    """
    if message.value is None:
        # A tombstone (null value) deletes nothing in an append-only trail: recorded as
        # what it is, and republished as null, not as an empty message.
        return _dead(message, None, "tombstone", "null value (a tombstone)", ingested_at)
    value: bytes = message.value
    try:
        decoded = codec.decode(value)
        check_payload_type(decoded.record)
        # The schema fixes the shape; the models' rules check the values (currency,
        # ranges...), read from the models but without building one.
        check_avro_values(decoded.record)
        row = trail_row(
            decoded.record,
            family=decoded.writer.family,
            schema_version=decoded.writer.version,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            ingested_at=ingested_at,
        )
    except (DecodeError, PayloadTypeMismatch) as exc:
        return _dead(message, value, exc.reason_code, str(exc), ingested_at)
    except InvalidEvent as exc:
        return _dead(message, value, "invalid_event", str(exc), ingested_at)
    except UnstorableRecord as exc:
        return _dead(message, value, "unstorable", str(exc), ingested_at)
    # Keyed or placed apart from its session: stored as evidence, flagged (and hashed).
    flags = envelope_flags(str(row.session_id), message.key, message.partition, partitions)
    row = with_envelope_flags(row, flags)
    # Personal fields are encrypted before the row is hashed, so the chain covers the
    # ciphertext and survives crypto-shredding.
    sealed = sealer.seal(row) if sealer is not None else row
    return Item(message.offset, sealed, part=_part(row), flags=flags)


def _part(row: TrailRow) -> int:
    when: datetime = row.occurred_at
    return when.year * 100 + when.month


def _dead(message: Any, value: bytes | None, code: str, reason: str, ingested_at: datetime) -> Item:
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
        value=letter.value if letter.value is not None else b"",
        reason_code=code,
        reason=reason,
        ingested_at=ingested_at,
    )
    return Item(letter.offset, row, letter, part=_part(row))
