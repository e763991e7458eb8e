"""Tamper evidence: each row's hash chains to the previous row of its Kafka partition.

``row_hash = sha256(prev_hash_bytes || canonical_bytes(row))``. The canonical bytes are
compact JSON with sorted keys over every column except ingested_at and the two hashes
(a replay ingests later but must produce identical hashes). Values serialize in a form
that survives a round trip through ClickHouse exactly: UUIDs as lowercase strings,
datetimes as integer microseconds since the epoch, non-ASCII escaped, nulls left out.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.columns import COLUMNS, HASHED_NAMES, INDEX, ROW_COLUMNS
from ledger.rows import Row
from schemas import InvalidInput

ZERO_HASH = "0" * 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Sorted by name once, so the encoder need not sort keys per row.
_HASHED = tuple(sorted((name, INDEX[name]) for name in HASHED_NAMES))
_TOPIC, _PARTITION, _OFFSET = INDEX["kafka_topic"], INDEX["kafka_partition"], INDEX["kafka_offset"]


class ChainError(InvalidInput):
    """Rows handed to ``link`` do not continue the chain they are linked to."""


@dataclass(frozen=True)
class ChainHead:
    """Where a partition's chain ends: the last linked offset and its row hash."""

    topic: str
    partition: int
    offset: int = -1  # -1: nothing linked yet, the next row starts the chain
    row_hash: str = ZERO_HASH

    @classmethod
    def start(cls, topic: str, partition: int) -> ChainHead:
        return cls(topic, partition)


def canonical_bytes(row: Row) -> bytes:
    """The bytes a row's hash covers. ``row`` is in column order, with or without hashes.

    Null columns are left out, so a column added later (null in old rows) leaves the
    hashes of old rows unchanged; keys are named, so leaving them out is unambiguous.
    """
    if len(row) not in (len(ROW_COLUMNS), len(COLUMNS)):
        raise InvalidInput(f"a trail row has {len(ROW_COLUMNS)} columns, got {len(row)}")
    # Only UUIDs and datetimes need converting; the C encoder hands just those to
    # ``_plain``, which keeps this loop free of per-value type tests.
    plain = {name: row[i] for name, i in _HASHED if row[i] is not None}
    return _ENCODER.encode(plain).encode("ascii")


def hashed_form_select() -> str:
    """A SELECT list of every column as the chain hashes it: UUIDs as text, times as
    integer microseconds (for readers that re-hash stored rows: verify, proofs)."""
    exprs = []
    for column in COLUMNS:
        if "UUID" in column.type:
            exprs.append(f"toString({column.name})")
        elif "DateTime64" in column.type:
            exprs.append(f"toUnixTimestamp64Micro({column.name})")
        else:
            exprs.append(column.name)
    return ", ".join(exprs)


def _plain(value: Any) -> Any:
    if type(value) is uuid.UUID:
        return str(value)
    if type(value) is datetime:
        if value.tzinfo is None:
            raise InvalidInput(f"naive datetime {value!r} cannot be hashed")
        # Integer arithmetic: float timestamps lose microseconds far from 1970.
        delta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    raise InvalidInput(f"a {type(value).__name__} value cannot be hashed: {value!r}")


_ENCODER = json.JSONEncoder(
    ensure_ascii=True, separators=(",", ":"), allow_nan=False, default=_plain
)


def row_hash(prev_hash: str, row: Row) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical_bytes(row)).hexdigest()


def link(rows: Sequence[Row], head: ChainHead) -> tuple[list[Row], ChainHead]:
    """Append prev_hash and row_hash to rows of one partition, continuing ``head``.

    Offsets must increase past the head: rows already linked (a replay) are the caller's
    to skip, since their hashes are stored already.
    """
    linked: list[Row] = []
    prev, last = head.row_hash, head.offset
    for row in rows:
        if len(row) != len(ROW_COLUMNS):
            raise ChainError(f"link wants rows without hashes ({len(ROW_COLUMNS)} columns)")
        if (row[_TOPIC], row[_PARTITION]) != (head.topic, head.partition):
            raise ChainError(
                f"row of {row[_TOPIC]}[{row[_PARTITION]}] linked to the chain of "
                f"{head.topic}[{head.partition}]"
            )
        if row[_OFFSET] <= last:
            raise ChainError(
                f"offset {row[_OFFSET]} does not follow offset {last} in "
                f"{head.topic}[{head.partition}]"
            )
        current = row_hash(prev, row)
        linked.append((*row, prev, current))
        prev, last = current, row[_OFFSET]
    return linked, ChainHead(head.topic, head.partition, last, prev)
