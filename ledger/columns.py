"""The trail table's columns, in table order: the single source of truth.

The DDL in ``migrations/0001_trail.sql`` spells the same list out (migrations are
immutable SQL), and a contract test checks the created table against ``COLUMNS``.
Payload columns are one typed Nullable column per distinct payload field name across
both families; a unit test checks every field of every Avro payload record fits one.
Avro ``int`` maps to Int32 and ``long`` to Int64 (not narrower types) so a later schema
version may use the full Avro range without a column type change.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    # Personal data: encrypted per subject by a later issue, shown to auditors only.
    personal: bool = False


ENVELOPE: tuple[Column, ...] = (
    Column("event_id", "UUID"),
    Column("event_type", "LowCardinality(String)"),
    Column("family", "LowCardinality(String)"),
    Column("schema_version", "UInt16"),
    Column("occurred_at", "DateTime64(6, 'UTC')"),
    Column("session_id", "UUID"),
    Column("actor_id", "String"),
    Column("actor_role", "LowCardinality(String)"),
    Column("source_service", "LowCardinality(String)"),
    Column("source_version", "LowCardinality(String)"),
)

DEVICE: tuple[Column, ...] = (
    Column("device_kind", "LowCardinality(Nullable(String))"),
    Column("device_os", "LowCardinality(Nullable(String))"),
    Column("device_os_version", "LowCardinality(Nullable(String))"),
    Column("device_browser", "LowCardinality(Nullable(String))"),
    Column("device_browser_version", "LowCardinality(Nullable(String))"),
    Column("device_app_version", "LowCardinality(Nullable(String))"),
)

NETWORK: tuple[Column, ...] = (
    Column("network_ip", "Nullable(String)", personal=True),
    Column("network_country", "Nullable(String)", personal=True),
    Column("network_region", "Nullable(String)", personal=True),
    Column("network_city", "Nullable(String)", personal=True),
)

_ID = "Nullable(String)"
_UUID = "Nullable(UUID)"
_ENUM = "LowCardinality(Nullable(String))"
_INT = "Nullable(Int32)"
_LONG = "Nullable(Int64)"
_BOOL = "Nullable(Bool)"
_TIME = "Nullable(DateTime64(6, 'UTC'))"

PAYLOAD: tuple[Column, ...] = (
    # session_event
    Column("participant_id", _ID),
    Column("participant_role", _ENUM),
    Column("granted", _BOOL),
    Column("denial_reason", "Nullable(String)"),
    # A disconnect reason (enum) in session events, free text in transaction events.
    Column("reason", "Nullable(String)"),
    Column("offline_ms", _LONG),
    Column("client_id", _ID),
    Column("specialist_id", _ID),
    Column("mode", _ENUM),
    Column("duration_seconds", _LONG),
    Column("note_id", _UUID),
    Column("author_id", _ID),
    Column("visibility", _ENUM),
    Column("size_bytes", _LONG),
    Column("content_sha256", "Nullable(String)"),
    Column("file_id", _UUID),
    Column("sender_id", _ID),
    Column("recipient_id", _ID),
    Column("media_type", _ENUM),
    Column("message_id", _UUID),
    Column("has_attachments", _BOOL),
    Column("attachment_count", _INT),
    Column("rater_id", _ID),
    Column("service_stars", _INT),
    Column("audio_stars", _INT),
    Column("video_stars", _INT),
    # transaction_event
    Column("booking_id", _UUID),
    Column("scheduled_start", _TIME),
    Column("duration_minutes", _INT),
    Column("price_minor", _LONG),
    Column("currency", _ENUM),
    Column("cancelled_by", _ENUM),
    Column("previous_start", _TIME),
    Column("new_start", _TIME),
    Column("transaction_id", _UUID),
    Column("payer_id", _ID),
    Column("payer_name", "Nullable(String)", personal=True),
    Column("payer_email", "Nullable(String)", personal=True),
    Column("amount_minor", _LONG),
    Column("method", _ENUM),
    Column("processor", _ENUM),
    Column("attempt_number", _INT),
    Column("processor_reference", _ID),
    Column("failure_code", _ENUM),
    Column("failure_message", "Nullable(String)"),
    Column("refund_id", _UUID),
)

KAFKA: tuple[Column, ...] = (
    Column("kafka_topic", "LowCardinality(String)"),
    Column("kafka_partition", "UInt16"),
    Column("kafka_offset", "UInt64"),
    Column("ingested_at", "DateTime64(6, 'UTC')"),
)

# What the consumer noticed about the envelope of a stored event (consumers/envelope.py):
# comma-separated codes such as ``key_not_session,off_partition``; null for a clean event,
# so rows stored before migration 0015 hash as they did. Hashed like any other column.
FLAGS: tuple[Column, ...] = (Column("envelope_flags", "LowCardinality(Nullable(String))"),)

HASHES: tuple[Column, ...] = (
    # Hex sha256; the first row of a chain has 64 zeros as prev_hash.
    Column("prev_hash", "String"),
    Column("row_hash", "String"),
)

# What `rows.trail_row` builds; the chain appends HASHES.
ROW_COLUMNS: tuple[Column, ...] = ENVELOPE + DEVICE + NETWORK + PAYLOAD + KAFKA + FLAGS
COLUMNS: tuple[Column, ...] = ROW_COLUMNS + HASHES
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
PAYLOAD_NAMES: frozenset[str] = frozenset(c.name for c in PAYLOAD)

# Not hashed: when a row was ingested differs between a run and its replay.
UNHASHED: frozenset[str] = frozenset({"ingested_at", "prev_hash", "row_hash"})
HASHED_NAMES: tuple[str, ...] = tuple(n for n in COLUMN_NAMES if n not in UNHASHED)

INDEX: dict[str, int] = {name: i for i, name in enumerate(COLUMN_NAMES)}


def column(name: str) -> Column:
    return COLUMNS[INDEX[name]]


def column_list() -> str:
    """The column names as an SQL column list, for INSERT and SELECT."""
    return ", ".join(COLUMN_NAMES)
