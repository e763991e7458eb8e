"""Our Avro schemas as the flat column list ClickHouse's AvroConfluent reader fills.

ClickHouse maps an Avro record to columns by path: ``actor.id`` for a nested record,
``device.Device.kind`` for a branch of ``union(null, Device)`` and
``payload.NoteSaved.size_bytes`` for a branch of the payload union (the branch is named
by the record's simple name). A branch that a message does not take leaves its columns
at their default, so every branch column is Nullable. Inferring one ``Variant`` for the
payload instead fails: ParticipantJoined and ParticipantLeft have the same shape, and a
Variant cannot hold two equal types.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_PRIMITIVES = {
    "string": "String",
    "boolean": "Bool",
    "int": "Int32",
    "long": "Int64",
}
_LOGICAL = {"uuid": "UUID", "timestamp-micros": "DateTime64(6, 'UTC')"}


@dataclass(frozen=True)
class FlatColumn:
    path: str  # e.g. "payload.NoteSaved.size_bytes"
    field: str  # the Avro field name, e.g. "size_bytes"
    type: str  # ClickHouse type, Nullable where a message may not fill it

    @property
    def quoted(self) -> str:
        return f"`{self.path}`"


def _scalar(avro_type: Any, named: Mapping[str, str]) -> str | None:
    if isinstance(avro_type, str):
        return _PRIMITIVES.get(avro_type) or named.get(avro_type)
    if isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        if logical in _LOGICAL:
            return _LOGICAL[logical]
        if avro_type.get("type") == "enum":
            return "String"
        if isinstance(avro_type.get("type"), str) and avro_type["type"] in _PRIMITIVES:
            return _PRIMITIVES[avro_type["type"]]
    return None


def _nullable(type_name: str) -> str:
    return type_name if type_name.startswith("Nullable(") else f"Nullable({type_name})"


def _walk(
    avro_type: Any, path: str, field: str, optional: bool, named: dict[str, str]
) -> Iterator[FlatColumn]:
    if isinstance(avro_type, dict) and avro_type.get("type") == "enum":
        named[str(avro_type["name"])] = "String"
    scalar = _scalar(avro_type, named)
    if scalar is not None:
        yield FlatColumn(path, field, _nullable(scalar) if optional else scalar)
        return
    if isinstance(avro_type, list):
        branches = [b for b in avro_type if b != "null"]
        nullable = len(branches) < len(avro_type)
        if len(branches) == 1 and _scalar(branches[0], named) is not None:
            yield from _walk(branches[0], path, field, optional or nullable, named)
            return
        for branch in branches:
            if not (isinstance(branch, dict) and branch.get("type") == "record"):
                raise ValueError(f"{path}: only unions of records are flattened, got {branch!r}")
            yield from _walk(branch, f"{path}.{branch['name']}", field, True, named)
        return
    if isinstance(avro_type, dict) and avro_type.get("type") == "record":
        for sub in avro_type["fields"]:
            yield from _walk(sub["type"], f"{path}.{sub['name']}", sub["name"], optional, named)
        return
    raise ValueError(f"{path}: no ClickHouse column for Avro type {avro_type!r}")


def flat_columns(schema: Mapping[str, Any]) -> list[FlatColumn]:
    """Every leaf of a record schema, in schema order, as a ClickHouse column."""
    named: dict[str, str] = {}
    columns: list[FlatColumn] = []
    for top in schema["fields"]:
        columns.extend(_walk(top["type"], top["name"], top["name"], False, named))
    return columns
