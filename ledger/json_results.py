"""chDB results (format JSONCompact) -> Python values of the types clickhouse-driver returns.

Both backends must hand back the same values for the same row: UUID columns as
uuid.UUID, DateTime/DateTime64 with a time zone as aware datetimes, Bool as bool,
integers as int (64-bit ones exact, never via float), Nullable NULL as None.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

# Output settings that keep values exact in JSON: 64-bit integers as numbers (Python's
# json reads them exactly), decimals and non-finite floats as strings, no statistics.
OUTPUT_SETTINGS = (
    "output_format_json_quote_64bit_integers = 0, "
    "output_format_json_quote_decimals = 1, "
    "output_format_json_quote_denormals = 1, "
    "output_format_write_statistics = 0"
)

Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class Result:
    names: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]


def _inner(type_name: str, wrapper: str) -> str | None:
    if type_name.startswith(wrapper + "(") and type_name.endswith(")"):
        return type_name[len(wrapper) + 1 : -1]
    return None


def _zone(type_name: str) -> ZoneInfo | None:
    # DateTime('Europe/Paris') or DateTime64(6, 'UTC'): the zone is the quoted argument.
    if "'" not in type_name:
        return None
    return ZoneInfo(type_name.split("'")[1])


def _datetime(zone: ZoneInfo | None) -> Convert:
    if zone is None:
        return datetime.fromisoformat
    return lambda v: datetime.fromisoformat(v).replace(tzinfo=zone)


def _identity(value: Any) -> Any:
    return value


@cache
def converter(type_name: str) -> Convert:
    """How to turn one JSON value of a ClickHouse type into its Python value."""
    for wrapper in ("LowCardinality", "Nullable"):
        inner = _inner(type_name, wrapper)
        if inner is not None:
            convert = converter(inner)
            if convert is _identity:
                return _identity
            return lambda v: None if v is None else convert(v)
    inner = _inner(type_name, "Array")
    if inner is not None:
        element = converter(inner)
        if element is _identity:
            return _identity
        return lambda v: [element(item) for item in v]
    if type_name == "UUID":
        return uuid.UUID
    if type_name == "Bool" or type_name.startswith(("Int", "UInt")):
        return _identity  # JSON true/false and (with OUTPUT_SETTINGS) exact integers
    if type_name.startswith("Float"):
        return float
    if type_name.startswith("Decimal"):
        return Decimal
    if type_name.startswith("DateTime"):
        return _datetime(_zone(type_name))
    if type_name.startswith("Date"):
        return date.fromisoformat
    return _identity


def decode(payload: bytes) -> Result:
    """A JSONCompact document -> column names, types and converted rows."""
    if not payload.strip():
        return Result([], [], [])
    # Invalid UTF-8 can only come from bytes stored by something other than us; keep going
    # with replacement characters (a tampered row then fails verification visibly).
    document = json.loads(payload.decode("utf-8", errors="replace"))
    names = [column["name"] for column in document["meta"]]
    types = [column["type"] for column in document["meta"]]
    rows = document["data"]
    # Convert only the columns that need it, in place: most values are JSON-native.
    special = [(i, c) for i, c in enumerate(converter(t) for t in types) if c is not _identity]
    for row in rows if special else ():
        for i, convert in special:
            row[i] = convert(row[i])
    return Result(names, types, [tuple(row) for row in rows])
