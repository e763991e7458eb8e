"""Hash format v2: a row's canonical bytes in a compact binary layout (docs/contract.md,
"Row hashes", says the same for outside verifiers).

Over every hashed column that is not null, in order of the column names::

    0x02                                  the version
    per column: u8 name length, name (ASCII), u8 type tag      the directory
    0x00                                  end of the directory (no name is empty)
    per integer/time/bool column, in directory order: its value    the fixed block
    per string/uuid column, in directory order: u32 byte length   the length block
    those strings' UTF-8 bytes, concatenated in directory order    the text block

Tags: 0x01 string, 0x02 uuid (its 36-character canonical text), 0x03 integer and 0x05
time (8 bytes, big-endian two's complement; a time is microseconds since the epoch),
0x04 bool (one byte, 0x00 or 0x01). The directory fixes how many values each block
holds, and the lengths where each text ends, so the bytes read back into exactly one
row: different rows give different bytes.

Why this layout: each block is made by one C-level call (``struct``, ``map``,
``bytes.join``) per row instead of Python work per value, which is what made the JSON
form (v1) cost; ``benchmarks/per_event.py`` measures the two side by side.
"""

from __future__ import annotations

import operator
import struct
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import compress
from typing import Any

from ledger.columns import COLUMNS, HASHED_NAMES, INDEX
from schemas import InvalidInput

VERSION = 2
STRING, UUID, INTEGER, BOOL, TIME = 1, 2, 3, 4, 5
_FIXED = {INTEGER: "q", TIME: "q", BOOL: "?"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Row = Sequence[Any]
_Getter = Callable[[Row], tuple[Any, ...]]


def _tag(column_type: str) -> int:
    base = column_type
    for wrapper in ("LowCardinality(", "Nullable("):
        if base.startswith(wrapper):
            base = base[len(wrapper) : -1]
    if base == "String":
        return STRING
    if base == "UUID":
        return UUID
    if base == "Bool":
        return BOOL
    if base.startswith("DateTime64"):
        return TIME
    if base.startswith(("Int", "UInt")):
        return INTEGER
    raise ValueError(f"no v2 hash encoding for the column type {column_type}")


# Every hashed column in name order: (index in the row, directory entry, tag).
_ALL = tuple(
    (INDEX[name], bytes([len(name)]) + name.encode("ascii") + bytes([tag]), tag)
    for name in sorted(HASHED_NAMES)
    for tag in (_tag(COLUMNS[INDEX[name]].type),)
)
_EVENT_TYPE = INDEX["event_type"]
_CACHE_LIMIT = 4096  # shapes are few (event types x optional fields); never grow unbounded


def _getter(indices: Sequence[int]) -> _Getter:
    """Always a tuple, whatever the count (itemgetter of one index is no tuple)."""
    if len(indices) > 1:
        return operator.itemgetter(*indices)
    wanted = tuple(indices)
    return lambda row: tuple(row[i] for i in wanted)


class _Layout:
    """How rows with one set of filled columns encode: the directory and the blocks."""

    def __init__(self, columns: Sequence[tuple[int, bytes, int]]) -> None:
        self.directory = bytes([VERSION]) + b"".join(e for _, e, _ in columns) + b"\x00"
        fixed = [j for j, (_, _, tag) in enumerate(columns) if tag in _FIXED]
        texts = [j for j, (_, _, tag) in enumerate(columns) if tag not in _FIXED]
        self.fixed, self.texts = _getter(fixed), _getter(texts)
        self.times = [k for k, j in enumerate(fixed) if columns[j][2] == TIME]
        self.uuids = [k for k, j in enumerate(texts) if columns[j][2] == UUID]
        self.pack_fixed = struct.Struct(">" + "".join(_FIXED[columns[j][2]] for j in fixed)).pack
        self.pack_lengths = struct.Struct(f">{len(texts)}I").pack

    def encode(self, present: tuple[Any, ...]) -> bytes:
        fixed: Sequence[Any] = self.fixed(present)
        if self.times:
            fixed = _with_micros(fixed, self.times)
        texts: Sequence[Any] = self.texts(present)
        if self.uuids:
            texts = _with_uuid_text(texts, self.uuids)
        data = list(map(str.encode, texts))  # TypeError for a non-text value
        return b"".join(
            (self.directory, self.pack_fixed(*fixed), self.pack_lengths(*map(len, data)), *data)
        )


class _Shape:
    """The columns rows of one event type have filled so far, and a C-speed test that a
    row fills no other. Only those columns are looked at; the bytes are the same either
    way (every non-null column), this skips columns known to be null."""

    def __init__(self, filled: frozenset[int]) -> None:
        self.filled = filled
        self.columns = tuple(c for c in _ALL if c[0] in filled)
        self.values = _getter([i for i, _, _ in self.columns])
        self.others = _getter([i for i, _, _ in _ALL if i not in filled])
        self.nones = (None,) * len(self.columns)
        self.layouts: dict[tuple[bool, ...], _Layout] = {}

    def fits(self, row: Row) -> bool:
        others = self.others(row)
        return others.count(None) == len(others)

    def encode(self, row: Row) -> bytes:
        values = self.values(row)
        mask = tuple(map(operator.is_not, values, self.nones))
        layout = self.layouts.get(mask)
        if layout is None:
            layout = _Layout([c for c, keep in zip(self.columns, mask, strict=True) if keep])
            if len(self.layouts) < _CACHE_LIMIT:
                self.layouts[mask] = layout
        return layout.encode(tuple(compress(values, mask)))


_SHAPES: dict[str, _Shape] = {}


def v2_bytes(row: Row) -> bytes:
    kind = row[_EVENT_TYPE]
    key = kind if type(kind) is str else ""
    shape = _SHAPES.get(key)
    if shape is None or not shape.fits(row):
        filled = frozenset(i for i, _, _ in _ALL if row[i] is not None)
        shape = _Shape(filled if shape is None else shape.filled | filled)
        if len(_SHAPES) < _CACHE_LIMIT:
            _SHAPES[key] = shape
    return shape.encode(row)


def _with_micros(values: Sequence[Any], positions: list[int]) -> list[Any]:
    out = list(values)
    for k in positions:
        if type(out[k]) is not int:  # a row read back holds the integer already
            out[k] = micros(out[k])
    return out


def _with_uuid_text(values: Sequence[Any], positions: list[int]) -> list[Any]:
    out = list(values)
    for k in positions:
        value = out[k]
        text = str(value) if type(value) is uuid.UUID else value
        if type(text) is not str or len(text) != 36:
            raise InvalidInput(f"{value!r} is not a UUID in its canonical text")
        out[k] = text
    return out


def micros(value: Any) -> int:
    """An aware datetime as integer microseconds since the epoch."""
    if type(value) is not datetime:
        raise InvalidInput(f"a {type(value).__name__} value cannot be hashed as a time")
    if value.tzinfo is None:
        raise InvalidInput(f"naive datetime {value!r} cannot be hashed")
    # Integer arithmetic: float timestamps lose microseconds far from 1970.
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
