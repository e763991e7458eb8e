"""A decoded Avro record plus its Kafka coordinates -> one trail row (a ``TrailRow``: a
named tuple in column order).

The row built here has every column except the two hash columns; ``chain.link`` appends
them. Values keep their Python types (uuid.UUID or its canonical text, aware datetime, int,
bool, str, None): the store adapters write and read these, and the hash chain covers a UUID
as its canonical text either way, so a row read back hashes the same.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ledger.columns import INDEX, PAYLOAD_NAMES, ROW_COLUMNS
from ledger.trail_row import TrailRow
from schemas import InvalidInput

# A row of any width (a trail row, or one with its hash columns linked on).
Row = tuple[Any, ...]

# DateTime64's range; ClickHouse would clamp anything outside it, breaking the hash chain.
MIN_TIME = datetime(1900, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(2299, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
MAX_UINT16 = 0xFFFF

# Payload columns of type UUID: their values arrive as UUID objects or as text.
_UUID_NAMES = frozenset(c.name for c in ROW_COLUMNS if c.type.endswith("UUID)") or c.type == "UUID")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# (field of the nested record, its column's index in the row)
_DEVICE = tuple(
    (f, INDEX[f"device_{f}"])
    for f in ("kind", "os", "os_version", "browser", "browser_version", "app_version")
)
_NETWORK = tuple((f, INDEX[f"network_{f}"]) for f in ("ip", "country", "region", "city"))


class UnstorableRecord(InvalidInput):
    """A decoded record that the trail table cannot hold as it is."""


def trail_row(
    record: Mapping[str, Any],
    *,
    family: str,
    schema_version: int,
    topic: str,
    partition: int,
    offset: int,
    ingested_at: datetime,
) -> TrailRow:
    """The trail row (without prev_hash/row_hash) for one decoded record."""
    if not 0 <= partition <= MAX_UINT16 or offset < 0 or not 0 < schema_version <= MAX_UINT16:
        raise UnstorableRecord(
            f"bad coordinates: partition {partition}, offset {offset}, "
            f"schema version {schema_version}"
        )
    try:
        payload_name, payload = record["payload"]
        actor, source = record["actor"], record["source"]
        values: list[Any] = [None] * len(ROW_COLUMNS)
        values[: INDEX["device_kind"]] = (
            _uuid(record["event_id"]),
            record["event_type"],
            family,
            schema_version,
            _time(record["occurred_at"], "occurred_at"),
            _uuid(record["session_id"]),
            actor["id"],
            actor["role"],
            source["service"],
            source["version"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UnstorableRecord(f"record lacks the envelope the trail needs: {exc!r}") from exc
    _nested(values, record.get("device"), _DEVICE)
    _nested(values, record.get("network"), _NETWORK)
    for name, value in payload.items():
        if name not in PAYLOAD_NAMES:
            raise UnstorableRecord(
                f"{payload_name} field {name!r} has no trail column: "
                "add a migration and a column in ledger/columns.py"
            )
        if isinstance(value, datetime):
            value = _time(value, name)
        elif name in _UUID_NAMES and value is not None:
            value = _uuid(value)
        values[INDEX[name]] = value
    values[INDEX["kafka_topic"]] = topic
    values[INDEX["kafka_partition"]] = partition
    values[INDEX["kafka_offset"]] = offset
    values[INDEX["ingested_at"]] = _time(ingested_at, "ingested_at")
    return TrailRow._make(values)


def with_envelope_flags(row: TrailRow, flags: str | None) -> TrailRow:
    """``row`` recording what was wrong with its envelope (``consumers.envelope``)."""
    if flags is None:
        return row
    return row._replace(envelope_flags=flags)


def _nested(values: list[Any], part: Any, fields: tuple[tuple[str, int], ...]) -> None:
    if part is None:
        return
    for field, index in fields:
        values[index] = part.get(field)


def _uuid(value: Any) -> uuid.UUID | str:
    """A UUID object, or UUID text in its canonical form (what the hash chain covers)."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str) and _CANONICAL_UUID.fullmatch(value):
        return value
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        raise UnstorableRecord(f"{value!r} is not a UUID") from exc


def _time(value: Any, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise UnstorableRecord(f"{name} must be a timezone-aware datetime, got {value!r}")
    if not MIN_TIME <= value <= MAX_TIME:
        raise UnstorableRecord(f"{name} {value.isoformat()} is outside 1900..2299")
    return value.astimezone(UTC)


DEAD_LETTER = "dead_letter"
# Fixed namespace: the same Kafka coordinates always give the same dead-letter event_id.
_DEAD_LETTER_NS = uuid.UUID("6f1c2a52-33c4-4e0e-9a51-0d5b8f3f7a10")
_NIL = uuid.UUID(int=0)
# Who records dead letters and duplicates: the ingest service itself.
_INGEST_ACTOR = ("audit-trail-ingest", "system", "audit-trail-ingest", "1")


def dead_letter_row(
    *,
    topic: str,
    partition: int,
    offset: int,
    timestamp_ms: int,
    key: bytes | None,
    value: bytes,
    reason_code: str,
    reason: str,
    ingested_at: datetime,
) -> TrailRow:
    """The trail's record of a message it could not take: where, when, why, and a digest.

    Keeping it in the trail (family ``dead_letter``) keeps offsets contiguous and the
    chain unbroken, and shows an auditor exactly what was refused. The bytes themselves
    go to the dead-letter topic, not here (they may hold anything).
    """
    values: list[Any] = [None] * len(ROW_COLUMNS)
    try:
        session_id = uuid.UUID(key.decode()) if key else _NIL
    except (UnicodeDecodeError, ValueError):
        session_id = _NIL
    when = datetime.fromtimestamp(max(timestamp_ms, 0) / 1000, tz=UTC)
    values[: INDEX["device_kind"]] = (
        uuid.uuid5(_DEAD_LETTER_NS, f"{topic}/{partition}/{offset}"),
        DEAD_LETTER,
        DEAD_LETTER,
        0,
        _time(min(max(when, MIN_TIME), MAX_TIME), "occurred_at"),
        session_id,
        *_INGEST_ACTOR,
    )
    values[INDEX["failure_code"]] = reason_code
    values[INDEX["reason"]] = reason[:2000]
    values[INDEX["size_bytes"]] = len(value)
    values[INDEX["content_sha256"]] = hashlib.sha256(value).hexdigest()
    values[INDEX["kafka_topic"]] = topic
    values[INDEX["kafka_partition"]] = partition
    values[INDEX["kafka_offset"]] = offset
    values[INDEX["ingested_at"]] = _time(ingested_at, "ingested_at")
    return TrailRow._make(values)


DUPLICATE = "duplicate"
# Fixed namespace: the same Kafka coordinates always give the same duplicate row id.
_DUPLICATE_NS = uuid.UUID("0d7c6a1e-5b2f-4c8e-a3d9-6e1f4b7a2c90")
DUPLICATE_EVENT = "duplicate_event"  # same event_id, same content: a producer's retry
EVENT_ID_CONFLICT = "event_id_conflict"  # same event_id, other content: a producer's bug


def duplicate_row(row: TrailRow, *, first: str, conflicts: list[str] | None = None) -> TrailRow:
    """The trail's record of a message whose event_id is stored already (at ``first``).

    Like a dead letter it keeps its offset, so offsets stay contiguous and the chain
    unbroken, and its own event_id derives from that offset: no query or view of the
    trail can show the event's id twice. It keeps the event's session and time (an
    auditor finds it beside the event) and names the event's id first in ``reason``. It
    holds no payload and no personal data, so no data key is needed. ``conflicts`` names
    the columns whose content differs from the stored event's (``stored -> here``): then
    it is a conflict.
    """
    if len(row) != len(ROW_COLUMNS):
        raise UnstorableRecord(f"a trail row has {len(ROW_COLUMNS)} columns, got {len(row)}")
    coordinates = (row.kafka_topic, row.kafka_partition, row.kafka_offset)
    values: list[Any] = [None] * len(ROW_COLUMNS)
    values[: INDEX["device_kind"]] = (
        uuid.uuid5(_DUPLICATE_NS, "/".join(map(str, coordinates))),
        EVENT_ID_CONFLICT if conflicts else DUPLICATE_EVENT,
        DUPLICATE,
        row.schema_version,
        row.occurred_at,
        row.session_id,
        *_INGEST_ACTOR,
    )
    said = f"event_id {row.event_id}: {row.event_type}"
    if conflicts:
        reason = f"{said} with other content than stored at {first}: " + "; ".join(conflicts)
    else:
        reason = f"{said} delivered again; stored at {first}"
    values[INDEX["reason"]] = reason[:2000]
    duplicate = TrailRow._make(values)
    return duplicate._replace(
        kafka_topic=row.kafka_topic,
        kafka_partition=row.kafka_partition,
        kafka_offset=row.kafka_offset,
        ingested_at=row.ingested_at,
    )
