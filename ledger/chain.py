"""Tamper evidence: each row's hash chains to the previous row of its Kafka partition.

``row_hash = sha256(prev_hash_bytes || canonical bytes of the row)``, the canonical bytes
being in the form the row's ``chain_version`` names (``ledger.canonical``: v1 JSON for rows
stored before migration 0023, v2 binary for every row linked now).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.canonical import CURRENT, V1_JSON, form_bytes
from ledger.columns import COLUMNS, INDEX, ROW_COLUMNS
from ledger.rows import Row
from schemas import InvalidInput

ZERO_HASH = "0" * 64
_VERSION = INDEX["chain_version"]
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


def canonical_bytes(row: Row, version: int | None = None) -> bytes:
    """The bytes a row's hash covers. ``row`` is in column order: a row to link (no
    hashes; ``version`` defaults to the current form) or a stored one (``version``
    defaults to its ``chain_version``; a row from before versions existed, such as an
    old proof bundle's, has None there and is v1).
    """
    if len(row) == len(COLUMNS):
        stored = row[_VERSION]
        chosen = (V1_JSON if stored is None else int(stored)) if version is None else version
    elif len(row) == len(ROW_COLUMNS):
        chosen = CURRENT if version is None else version
    else:
        raise InvalidInput(f"a trail row has {len(ROW_COLUMNS)} columns, got {len(row)}")
    return form_bytes(row, chosen)


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


def row_hash(prev_hash: str, row: Row, version: int | None = None) -> str:
    """The row's chain hash (``version`` as in ``canonical_bytes``). Raises ValueError
    for a prev_hash that is no hex, InvalidInput for a row it cannot hash."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical_bytes(row, version)).hexdigest()


def link(rows: Sequence[Row], head: ChainHead) -> tuple[list[Row], ChainHead]:
    """Append prev_hash, row_hash and chain_version (the current form) to rows of one
    partition, continuing ``head``.

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
        current = row_hash(prev, row, CURRENT)
        linked.append((*row, prev, current, CURRENT))
        prev, last = current, row[_OFFSET]
    return linked, ChainHead(head.topic, head.partition, last, prev)
