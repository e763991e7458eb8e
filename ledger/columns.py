"""The trail table's columns, in table order: the single source of truth.

The DDL in ``migrations/0001_trail.sql`` spells the same list out (migrations are
immutable SQL), and a contract test checks the created table against ``COLUMNS``.
Payload columns are derived from the Avro schemas (``ledger.payload_columns``), and which
columns are personal from the catalogue (``schemas.catalogue``): adding an event type or
a field adds its column here without an edit.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.payload_columns import payload_columns
from schemas.catalogue import personal_fields

_PERSONAL = personal_fields()


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    # Personal data: sealed with a subject's key (ledger.privacy.sealing), auditors only.
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
    Column("network_ip", "Nullable(String)", personal="network_ip" in _PERSONAL),
    Column("network_country", "Nullable(String)", personal="network_country" in _PERSONAL),
    Column("network_region", "Nullable(String)", personal="network_region" in _PERSONAL),
    Column("network_city", "Nullable(String)", personal="network_city" in _PERSONAL),
)

# Derived from the Avro schemas (``ledger.payload_columns``); personal as the catalogue says.
PAYLOAD: tuple[Column, ...] = tuple(
    Column(name, column_type, personal=name in _PERSONAL) for name, column_type in payload_columns()
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

# Which canonical form the row's hash covers (ledger.canonical): 1 JSON, 2 binary. Added
# by migration 0023 with default 1, what every row stored before it is.
VERSION: tuple[Column, ...] = (Column("chain_version", "UInt8"),)

# What `rows.trail_row` builds; the chain appends HASHES and VERSION.
ROW_COLUMNS: tuple[Column, ...] = ENVELOPE + DEVICE + NETWORK + PAYLOAD + KAFKA + FLAGS
COLUMNS: tuple[Column, ...] = ROW_COLUMNS + HASHES + VERSION
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
PAYLOAD_NAMES: frozenset[str] = frozenset(c.name for c in PAYLOAD)

# Not hashed: when a row was ingested differs between a run and its replay. The version
# is no hashed column, but it picks the form the hash covers (ledger.canonical).
UNHASHED: frozenset[str] = frozenset({"ingested_at", "prev_hash", "row_hash", "chain_version"})
HASHED_NAMES: tuple[str, ...] = tuple(n for n in COLUMN_NAMES if n not in UNHASHED)

INDEX: dict[str, int] = {name: i for i, name in enumerate(COLUMN_NAMES)}


def column(name: str) -> Column:
    return COLUMNS[INDEX[name]]


def column_list() -> str:
    """The column names as an SQL column list, for INSERT and SELECT."""
    return ", ".join(COLUMN_NAMES)
