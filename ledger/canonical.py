"""The bytes a row's hash covers, in each format the chain has used (``chain_version``).

Both forms share what makes a stored row re-hashable: every column but ingested_at, the
two hashes and chain_version itself (a replay ingests later but must give identical
hashes); null columns left out (a column added later, null in old rows, leaves their
hashes unchanged); UUIDs as canonical lowercase text; times as integer microseconds
since the epoch (what ``chain.hashed_form_select`` reads back, on both backends, with no
float in between). Columns go in order of their names, never of the table.

- **v1**: compact JSON with sorted keys, non-ASCII escaped. Rows stored before
  migration 0023 (their chain_version reads 1).
- **v2**: binary, about half the cost. The version byte ``0x02``, then per non-null
  column: ``u8`` name length, the name (ASCII), a type tag, the value:

  ==== ======== ===============================================================
  tag  type     value
  ==== ======== ===============================================================
  0x01 string   ``u32`` big-endian byte length, then the UTF-8 bytes
  0x02 uuid     its 36-character canonical text (ASCII), no length
  0x03 integer  8 bytes, big-endian two's complement
  0x04 bool     one byte, 0x00 or 0x01
  0x05 time     8 bytes, big-endian two's complement microseconds since the epoch
  ==== ======== ===============================================================

  Each entry is self-delimiting and names are unique, so different rows give different
  bytes. A v1 form always starts with ``{`` (0x7b), a v2 form with 0x02: re-hashing a
  row under the other version can never give its stored hash, so chain_version is
  covered by the hash though it is no hashed column (docs/contract.md, "Row hashes").
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from ledger.columns import COLUMNS, HASHED_NAMES, INDEX
from ledger.rows import Row
from schemas import InvalidInput

V1_JSON = 1
V2_BINARY = 2
CURRENT = V2_BINARY
VERSIONS = (V1_JSON, V2_BINARY)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class UnknownChainVersion(InvalidInput):
    """A row names a hash format this program does not know."""


# --- v1: JSON -------------------------------------------------------------------------

# Sorted by name once, so the encoder need not sort keys per row.
_HASHED = tuple(sorted((name, INDEX[name]) for name in HASHED_NAMES))


def _v1_plain(value: Any) -> Any:
    if type(value) is uuid.UUID:
        return str(value)
    if type(value) is datetime:
        return _micros(value)
    raise InvalidInput(f"a {type(value).__name__} value cannot be hashed: {value!r}")


_ENCODER = json.JSONEncoder(
    ensure_ascii=True, separators=(",", ":"), allow_nan=False, default=_v1_plain
)


def v1_bytes(row: Row) -> bytes:
    # Only UUIDs and datetimes need converting; the C encoder hands just those to
    # ``_v1_plain``, which keeps this loop free of per-value type tests.
    plain = {name: row[i] for name, i in _HASHED if row[i] is not None}
    return _ENCODER.encode(plain).encode("ascii")


# --- v2: binary -----------------------------------------------------------------------

STRING, UUID, INTEGER, BOOL, TIME = 1, 2, 3, 4, 5


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


# (index in the row, the entry's fixed head: name length, name, tag; the tag)
_PLAN = tuple(
    (INDEX[name], bytes([len(name)]) + name.encode("ascii") + bytes([tag]), tag)
    for name in sorted(HASHED_NAMES)
    for tag in (_tag(COLUMNS[INDEX[name]].type),)
)
_HEAD = bytes([V2_BINARY])


def v2_bytes(row: Row) -> bytes:
    parts = [_HEAD]
    add = parts.append
    for i, head, tag in _PLAN:
        value = row[i]
        if value is None:
            continue
        add(head)
        if tag == STRING:
            data = value.encode("utf-8")
            add(len(data).to_bytes(4, "big"))
            add(data)
        elif tag == UUID:
            add(_uuid_text(value))
        elif tag == INTEGER:
            add(value.to_bytes(8, "big", signed=True))
        elif tag == TIME:
            micros = value if type(value) is int else _micros(value)
            add(micros.to_bytes(8, "big", signed=True))
        else:
            add(b"\x01" if value else b"\x00")
    return b"".join(parts)


def _uuid_text(value: Any) -> bytes:
    text = str(value) if type(value) is uuid.UUID else value
    if type(text) is not str or len(text) != 36:
        raise InvalidInput(f"{value!r} is not a UUID in its canonical text")
    return text.encode("ascii")


def _micros(value: Any) -> int:
    if type(value) is not datetime:
        raise InvalidInput(f"a {type(value).__name__} value cannot be hashed as a time")
    if value.tzinfo is None:
        raise InvalidInput(f"naive datetime {value!r} cannot be hashed")
    # Integer arithmetic: float timestamps lose microseconds far from 1970.
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def form_bytes(row: Row, version: int) -> bytes:
    """The canonical bytes of ``row`` in hash format ``version``."""
    try:
        if version == V2_BINARY:
            return v2_bytes(row)
        if version == V1_JSON:
            return v1_bytes(row)
    except (AttributeError, TypeError, OverflowError, UnicodeEncodeError) as exc:
        raise InvalidInput(f"the row cannot be hashed in format v{version}: {exc}") from exc
    raise UnknownChainVersion(
        f"chain_version {version!r} is no hash format this program knows "
        f"(it knows {', '.join(map(str, VERSIONS))}): upgrade it, or the row was altered"
    )
