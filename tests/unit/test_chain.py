"""The hash chain, without a store: deterministic, sensitive to every hashed field, and the
same whether a partition's rows are linked in one batch or several."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ledger.canonical import CURRENT, V1_JSON, V2_BINARY, VERSIONS, UnknownChainVersion
from ledger.chain import ZERO_HASH, ChainError, ChainHead, canonical_bytes, link, row_hash
from ledger.columns import HASHED_NAMES, INDEX, ROW_COLUMNS, column
from ledger.rows import Row, UnstorableRecord, trail_row
from producers.simulation.trail_rows import decoded_rows as build_rows
from schemas import AvroCodec, InvalidInput
from tests.support.samples import one_of_each

TOPIC = "audit.session-events"
INGESTED = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
_PREV, _HASH = INDEX["prev_hash"], INDEX["row_hash"]


def decoded_rows(partition: int = 0, ingested_at: datetime = INGESTED) -> list[Row]:
    """One row per event type, the way the consumer builds them (Avro bytes and back)."""
    return build_rows(one_of_each().values(), TOPIC, partition, ingested_at=ingested_at)


def replaced(row: Row, name: str, value: Any) -> Row:
    values = list(row)
    values[INDEX[name]] = value
    return tuple(values)


def fixed_row() -> Row:
    """A row with every value pinned, for the golden hash below."""
    values: list[Any] = [None] * len(ROW_COLUMNS)
    fixed = {
        "event_id": uuid.UUID("00000000-0000-4000-8000-000000000001"),
        "event_type": "participant_reconnected",
        "family": "session_event",
        "schema_version": 1,
        "occurred_at": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        "session_id": uuid.UUID("00000000-0000-4000-8000-000000000002"),
        "actor_id": "client-7",
        "actor_role": "client",
        "source_service": "meetings",
        "source_version": "2.1.0",
        "device_kind": "mobile",
        "device_os": "Android",
        "network_ip": "192.0.2.10",
        "network_city": "Cluj-Napoca",
        "participant_id": "client-7",
        "participant_role": "client",
        "offline_ms": 4200,
        "granted": True,
        "kafka_topic": TOPIC,
        "kafka_partition": 3,
        "kafka_offset": 41,
        "ingested_at": INGESTED,
    }
    for name, value in fixed.items():
        values[INDEX[name]] = value
    return tuple(values)


def test_canonical_form_v1_is_pinned() -> None:
    # Stored hashes depend on this exact form: changing it breaks verification of old rows.
    assert canonical_bytes(fixed_row(), V1_JSON) == (
        b'{"actor_id":"client-7","actor_role":"client","device_kind":"mobile",'
        b'"device_os":"Android","event_id":"00000000-0000-4000-8000-000000000001",'
        b'"event_type":"participant_reconnected","family":"session_event","granted":true,'
        b'"kafka_offset":41,"kafka_partition":3,"kafka_topic":"audit.session-events",'
        b'"network_city":"Cluj-Napoca","network_ip":"192.0.2.10","occurred_at":1767323045678901,'
        b'"offline_ms":4200,"participant_id":"client-7","participant_role":"client",'
        b'"schema_version":1,"session_id":"00000000-0000-4000-8000-000000000002",'
        b'"source_service":"meetings","source_version":"2.1.0"}'
    )
    # sha256 of 32 zero bytes followed by the canonical bytes above.
    assert row_hash(ZERO_HASH, fixed_row(), V1_JSON) == (
        "ff16db1e7a4db060e5063be388e71eba28a1fe4bc12a76a32eeda5015f2e093f"
    )


# The v2 bytes of fixed_row, block by block (docs/contract.md, "Row hashes").
_DIRECTORY = [  # (name, tag) of each non-null hashed column, in name order
    ("actor_id", 1), ("actor_role", 1), ("device_kind", 1), ("device_os", 1),
    ("event_id", 2), ("event_type", 1), ("family", 1), ("granted", 4), ("kafka_offset", 3),
    ("kafka_partition", 3), ("kafka_topic", 1), ("network_city", 1), ("network_ip", 1),
    ("occurred_at", 5), ("offline_ms", 3), ("participant_id", 1), ("participant_role", 1),
    ("schema_version", 3), ("session_id", 2), ("source_service", 1), ("source_version", 1),
]  # fmt: skip
_TEXTS = [
    "client-7", "client", "mobile", "Android", "00000000-0000-4000-8000-000000000001",
    "participant_reconnected", "session_event", "audit.session-events", "Cluj-Napoca",
    "192.0.2.10", "client-7", "client", "00000000-0000-4000-8000-000000000002", "meetings",
    "2.1.0",
]  # fmt: skip
V2_PINNED = "".join(
    (
        "02",  # the version
        *(f"{len(name):02x}" + name.encode().hex() + f"{tag:02x}" for name, tag in _DIRECTORY),
        "00",  # end of the directory
        "01",  # granted
        (41).to_bytes(8, "big").hex(),  # kafka_offset
        (3).to_bytes(8, "big").hex(),  # kafka_partition
        (1767323045678901).to_bytes(8, "big").hex(),  # occurred_at: 2026-01-02T03:04:05.678901Z
        (4200).to_bytes(8, "big").hex(),  # offline_ms
        (1).to_bytes(8, "big").hex(),  # schema_version
        *(len(text).to_bytes(4, "big").hex() for text in _TEXTS),
        *(text.encode().hex() for text in _TEXTS),
    )
)


def test_canonical_form_v2_is_pinned() -> None:
    # What every row linked now is hashed over; an outside verifier implements this form.
    assert canonical_bytes(fixed_row()).hex() == V2_PINNED
    assert row_hash(ZERO_HASH, fixed_row()) == (
        "9982fc1686443d43670984bf5cf4ecfb1b157c74e4e35cc4f9fc8ba040418d4b"
    )


def test_a_stored_row_is_hashed_in_the_form_its_version_names() -> None:
    linked, _ = link([fixed_row()], ChainHead.start(TOPIC, 3))
    (row,) = linked
    assert row[INDEX["chain_version"]] == CURRENT == V2_BINARY
    assert row_hash(ZERO_HASH, row) == row[INDEX["row_hash"]]
    as_v1 = replaced(row, "chain_version", V1_JSON)
    assert canonical_bytes(as_v1) == canonical_bytes(fixed_row(), V1_JSON)
    assert row_hash(ZERO_HASH, as_v1) != row[INDEX["row_hash"]]
    # A proof bundle written before versions existed has no chain_version: v1.
    assert canonical_bytes(replaced(row, "chain_version", None)).startswith(b"{")
    with pytest.raises(UnknownChainVersion, match="chain_version 3"):
        row_hash(ZERO_HASH, replaced(row, "chain_version", 3))


def test_hashes_are_deterministic_and_ignore_ingestion_time() -> None:
    first, _ = link(decoded_rows(), ChainHead.start(TOPIC, 0))
    replay, _ = link(
        decoded_rows(ingested_at=INGESTED + timedelta(hours=5)), ChainHead.start(TOPIC, 0)
    )
    assert [r[_HASH] for r in first] == [r[_HASH] for r in replay]


def test_the_chain_starts_at_zero_and_each_row_points_to_the_one_before() -> None:
    linked, head = link(decoded_rows(), ChainHead.start(TOPIC, 0))
    assert linked[0][_PREV] == ZERO_HASH
    for before, after in pairwise(linked):
        assert after[_PREV] == before[_HASH]
        assert after[_HASH] == row_hash(after[_PREV], after)
    assert head == ChainHead(TOPIC, 0, linked[-1][INDEX["kafka_offset"]], linked[-1][_HASH])


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", HASHED_NAMES)
def test_changing_any_hashed_field_changes_the_hash(name: str, version: int) -> None:
    row = fixed_row()
    current = row[INDEX[name]]
    if isinstance(current, bool):
        changed: Any = not current
    elif isinstance(current, int):
        changed = current + 1
    elif isinstance(current, uuid.UUID):
        changed = uuid.UUID(int=current.int + 1)
    elif isinstance(current, datetime):
        changed = current + timedelta(microseconds=1)
    elif current is None:  # a null field that gains a value (of its column's type)
        changed = {"Bool": True, "UUID": uuid.UUID(int=1), "DateTime": INGESTED}.get(
            next((t for t in ("Bool", "UUID", "DateTime") if t in column(name).type), ""),
            0 if "Int" in column(name).type else "x",
        )
    else:
        changed = current + "x"
    before = row_hash(ZERO_HASH, row, version)
    assert row_hash(ZERO_HASH, replaced(row, name, changed), version) != before


def test_a_field_that_becomes_null_changes_the_hash() -> None:
    row = fixed_row()
    assert row_hash(ZERO_HASH, replaced(row, "offline_ms", None)) != row_hash(ZERO_HASH, row)


def test_the_previous_hash_is_part_of_the_hash() -> None:
    assert row_hash(ZERO_HASH, fixed_row()) != row_hash("1" * 64, fixed_row())


@pytest.mark.parametrize("version", VERSIONS)
def test_equal_instants_in_other_time_zones_hash_alike(version: int) -> None:
    row = fixed_row()
    paris = row[INDEX["occurred_at"]].astimezone(ZoneInfo("Europe/Paris"))
    as_paris = canonical_bytes(replaced(row, "occurred_at", paris), version)
    assert as_paris == canonical_bytes(row, version)


def test_linking_in_two_batches_equals_linking_in_one() -> None:
    rows = decoded_rows()
    whole, whole_head = link(rows, ChainHead.start(TOPIC, 0))
    part1, head1 = link(rows[:7], ChainHead.start(TOPIC, 0))
    part2, head2 = link(rows[7:], head1)
    assert part1 + part2 == whole
    assert head2 == whole_head


def test_link_refuses_rows_that_do_not_continue_the_head() -> None:
    rows = decoded_rows()
    _, head = link(rows, ChainHead.start(TOPIC, 0))
    with pytest.raises(ChainError, match="does not follow"):
        link(rows[-1:], head)  # a replayed row: already linked
    with pytest.raises(ChainError, match="linked to the chain"):
        link(rows[:1], ChainHead.start(TOPIC, 1))
    with pytest.raises(ChainError, match="without hashes"):
        link(link(rows[:1], ChainHead.start(TOPIC, 0))[0], ChainHead.start(TOPIC, 0))


@pytest.mark.parametrize("version", VERSIONS)
def test_naive_datetimes_are_refused(version: int) -> None:
    naive = replaced(fixed_row(), "occurred_at", datetime(2026, 1, 1))
    with pytest.raises(InvalidInput):
        canonical_bytes(naive, version)


def test_trail_row_refuses_what_clickhouse_would_change() -> None:
    codec = AvroCodec()
    event = next(iter(one_of_each().values()))
    record = codec.decode(codec.encode(event.family, event.to_avro())).record
    coordinates: dict[str, Any] = {
        "family": event.family,
        "schema_version": 1,
        "topic": TOPIC,
        "partition": 0,
        "offset": 0,
    }
    with pytest.raises(UnstorableRecord, match="timezone-aware"):
        trail_row(record, ingested_at=datetime(2026, 1, 1), **coordinates)
    far = record | {"occurred_at": datetime(2400, 1, 1, tzinfo=UTC)}
    with pytest.raises(UnstorableRecord, match="outside"):
        trail_row(far, ingested_at=INGESTED, **coordinates)
    name, payload = record["payload"]
    unknown = record | {"payload": (name, payload | {"new_field": 1})}
    with pytest.raises(UnstorableRecord, match="new_field"):
        trail_row(unknown, ingested_at=INGESTED, **coordinates)
    with pytest.raises(UnstorableRecord, match="coordinates"):
        trail_row(record, ingested_at=INGESTED, **(coordinates | {"partition": 70_000}))
