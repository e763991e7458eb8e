"""The trail's columns against the Avro contract: every field the consumer will decode has a
column of a type that holds it exactly, and no payload column is left over."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ledger.columns import COLUMN_NAMES, COLUMNS, DEVICE, NETWORK, PAYLOAD, column
from schemas import default_registry

# Avro type -> the ClickHouse types (without Nullable/LowCardinality) that hold it exactly.
COMPATIBLE = {
    "string": {"String"},
    "enum": {"String"},
    "uuid": {"UUID"},
    "boolean": {"Bool"},
    "int": {"Int32", "Int64"},
    "long": {"Int64"},
    "timestamp-micros": {"DateTime64(6, 'UTC')"},
}


def _bare(type_name: str) -> str:
    """Strip the wrappers that do not change what a column can hold."""
    for wrapper in ("LowCardinality(", "Nullable("):
        if type_name.startswith(wrapper):
            return _bare(type_name[len(wrapper) : -1])
    return type_name


def _kind(avro_type: Any, named: dict[str, str]) -> tuple[str, bool]:
    """(kind, nullable) of a field type; named enums resolve through ``named``."""
    if isinstance(avro_type, list):
        branches = [t for t in avro_type if t != "null"]
        assert len(branches) == 1, f"unexpected union {avro_type}"
        return _kind(branches[0], named)[0], "null" in avro_type
    if isinstance(avro_type, dict):
        if avro_type["type"] == "enum":
            named[avro_type["name"]] = "enum"
            return "enum", False
        return str(avro_type.get("logicalType", avro_type["type"])), False
    return named.get(str(avro_type), str(avro_type)), False


def _payload_fields() -> Iterator[tuple[str, str, str]]:
    """(record, field, kind) for every payload field of the newest schema of each family."""
    registry = default_registry()
    for family in registry.families:
        source = registry.latest(family).source
        named: dict[str, str] = {}
        for field in source["fields"]:
            if field["name"] != "payload":
                _kind(field["type"], named)  # registers the envelope's named enums (Role)
                _register_nested(field["type"], named)
        payload = next(f for f in source["fields"] if f["name"] == "payload")
        for record in payload["type"]:
            for field in record["fields"]:
                yield record["name"], field["name"], _kind(field["type"], named)[0]


def _register_nested(avro_type: Any, named: dict[str, str]) -> None:
    for branch in avro_type if isinstance(avro_type, list) else [avro_type]:
        if isinstance(branch, dict) and branch.get("type") == "record":
            for field in branch["fields"]:
                _kind(field["type"], named)


PAYLOAD_FIELDS = sorted(set(_payload_fields()))


@pytest.mark.parametrize(("record", "field", "kind"), PAYLOAD_FIELDS)
def test_every_payload_field_has_a_column_that_holds_it(record: str, field: str, kind: str) -> None:
    assert field in COLUMN_NAMES, f"{record}.{field} has no trail column"
    found = column(field)
    assert found in PAYLOAD, f"{record}.{field} lands on non-payload column {found}"
    assert found.type.startswith(("Nullable(", "LowCardinality(Nullable(")), found
    assert _bare(found.type) in COMPATIBLE[kind], (
        f"{record}.{field} is Avro {kind}, column {found.name} is {found.type}"
    )


def test_every_payload_column_is_some_field() -> None:
    used = {field for _record, field, _kind in PAYLOAD_FIELDS}
    assert {c.name for c in PAYLOAD} == used


def test_a_field_shared_by_records_has_one_kind_or_a_column_for_both() -> None:
    kinds: dict[str, set[str]] = {}
    for _record, field, kind in PAYLOAD_FIELDS:
        kinds.setdefault(field, set()).add(kind)
    for field, found in kinds.items():
        allowed = set.intersection(*(COMPATIBLE[k] for k in found))
        assert _bare(column(field).type) in allowed, (field, found)


def test_names_are_unique_and_envelope_device_network_are_all_there() -> None:
    assert len(set(COLUMN_NAMES)) == len(COLUMNS)
    assert [c.name for c in DEVICE] == [
        f"device_{f}"
        for f in ("kind", "os", "os_version", "browser", "browser_version", "app_version")
    ]
    assert [c.name for c in NETWORK] == [
        f"network_{f}" for f in ("ip", "country", "region", "city")
    ]
    assert all(c.personal for c in NETWORK)
    assert column("payer_name").personal and column("payer_email").personal
    assert COLUMN_NAMES[-8:] == (
        "kafka_topic",
        "kafka_partition",
        "kafka_offset",
        "ingested_at",
        "envelope_flags",
        "prev_hash",
        "row_hash",
        "chain_version",
    )
