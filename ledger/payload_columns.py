"""The trail's payload columns, derived from the published Avro schemas.

One typed Nullable column per distinct payload field name across the families, in the
order the fields first appear: every family's v1 payload records in union order, then
what v2 added, and so on. A later version's columns therefore come after the earlier
ones, where its migration adds them (``ALTER TABLE trail ADD COLUMN ... AFTER``), and
the table created by the migrations keeps the order of ``ledger.columns.COLUMNS`` (the
store contract test compares the two).

Avro ``int`` maps to Int32 and ``long`` to Int64 (not narrower types) so a later version
may use the full Avro range without a column type change. Enums, and the free-text
fields the catalogue calls coded (``CODED_FIELDS``), are LowCardinality. A field that is
an enum in one record and text in another is text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from schemas import SchemaRegistry, default_registry
from schemas.catalogue import CODED_FIELDS

_TEXT = "Nullable(String)"
_CODED = "LowCardinality(Nullable(String))"
_LOGICAL = {
    "uuid": "Nullable(UUID)",
    "timestamp-micros": "Nullable(DateTime64(6, 'UTC'))",
    "timestamp-millis": "Nullable(DateTime64(6, 'UTC'))",
}
_PRIMITIVE = {
    "int": "Nullable(Int32)",
    "long": "Nullable(Int64)",
    "boolean": "Nullable(Bool)",
    "string": _TEXT,
}


class UnmappableField(ValueError):
    """A payload field no trail column type fits: a schema change the trail cannot take."""


def payload_columns(registry: SchemaRegistry | None = None) -> list[tuple[str, str]]:
    """(name, ClickHouse type) of every payload column, in table order."""
    registry = registry if registry is not None else default_registry()
    types: dict[str, str] = {}
    newest = max(v.version for v in registry)
    for number in range(1, newest + 1):
        for family in registry.families:
            version = next((v for v in registry.versions(family) if v.version == number), None)
            if version is None:
                continue
            for name, column_type in _fields(version.source):
                if name in CODED_FIELDS and column_type == _TEXT:
                    column_type = _CODED
                known = types.setdefault(name, column_type)
                if known != column_type:
                    types[name] = _merge(name, known, column_type)
    return list(types.items())


def _merge(name: str, one: str, other: str) -> str:
    if {one, other} == {_TEXT, _CODED}:
        return _TEXT
    raise UnmappableField(
        f"payload field {name} is {one} in one record and {other} in another: "
        "give the new meaning a new field name"
    )


def _fields(schema: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Every payload record's fields, in union order, with their column types."""
    enums = set(_enum_names(schema))
    payload = next(f for f in schema["fields"] if f["name"] == "payload")
    for branch in payload["type"]:
        for field in branch["fields"]:
            yield field["name"], _column_type(field["name"], field["type"], enums)


def _enum_names(node: Any) -> Iterator[str]:
    """The names of every enum the schema defines (payloads refer to the envelope's)."""
    if isinstance(node, dict):
        if node.get("type") == "enum":
            yield str(node["name"])
            yield f"{node.get('namespace', '')}.{node['name']}".lstrip(".")
        for value in node.values():
            yield from _enum_names(value)
    elif isinstance(node, list):
        for item in node:
            yield from _enum_names(item)


def _column_type(name: str, avro: Any, enums: set[str]) -> str:
    if isinstance(avro, list):
        branches = [b for b in avro if b != "null"]
        if len(branches) != 1:
            raise UnmappableField(f"payload field {name}: a union of {branches} has no column")
        return _column_type(name, branches[0], enums)
    if isinstance(avro, dict):
        if avro.get("type") == "enum":
            return _CODED
        logical = _LOGICAL.get(str(avro.get("logicalType")))
        return logical or _column_type(name, avro["type"], enums)
    if avro in _PRIMITIVE:
        return _PRIMITIVE[avro]
    if avro in enums:  # a reference to an enum the schema defines elsewhere
        return _CODED
    raise UnmappableField(f"payload field {name}: Avro type {avro!r} has no trail column")
