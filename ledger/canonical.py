"""The bytes a row's hash covers, in each format the chain has used (``chain_version``).

Both forms share what makes a stored row re-hashable: every column but ingested_at, the
two hashes and chain_version itself (a replay ingests later but must give identical
hashes); null columns left out (a column added later, null in old rows, leaves their
hashes unchanged); UUIDs as canonical lowercase text; times as integer microseconds
since the epoch (what ``chain.hashed_form_select`` reads back, on both backends, with no
float in between). Columns go in order of their names, never of the table.

- **v1**: compact JSON with sorted keys, non-ASCII escaped. Rows stored before
  migration 0023 (their chain_version reads 1).
- **v2**: binary (``ledger.canonical_v2``, which spells the layout out), about 1.4x
  cheaper to make (``benchmarks/per_event.py``). It starts with the byte 0x02, a v1
  form always with ``{`` (0x7b): re-hashing a row under the other version never gives
  its stored hash, so chain_version is covered by the hash though it is no hashed
  column (docs/contract.md, "Row hashes").
"""

from __future__ import annotations

import json
import struct
import uuid
from datetime import datetime
from typing import Any

from ledger.canonical_v2 import micros, v2_bytes
from ledger.columns import HASHED_NAMES, INDEX
from ledger.rows import Row
from schemas import InvalidInput

V1_JSON = 1
V2_BINARY = 2
CURRENT = V2_BINARY
VERSIONS = (V1_JSON, V2_BINARY)


class UnknownChainVersion(InvalidInput):
    """A row names a hash format this program does not know."""


# --- v1: JSON -------------------------------------------------------------------------

# Sorted by name once, so the encoder need not sort keys per row.
_HASHED = tuple(sorted((name, INDEX[name]) for name in HASHED_NAMES))


def _v1_plain(value: Any) -> Any:
    if type(value) is uuid.UUID:
        return str(value)
    if type(value) is datetime:
        return micros(value)
    raise InvalidInput(f"a {type(value).__name__} value cannot be hashed: {value!r}")


_ENCODER = json.JSONEncoder(
    ensure_ascii=True, separators=(",", ":"), allow_nan=False, default=_v1_plain
)


def v1_bytes(row: Row) -> bytes:
    # Only UUIDs and datetimes need converting; the C encoder hands just those to
    # ``_v1_plain``, which keeps this loop free of per-value type tests.
    plain = {name: row[i] for name, i in _HASHED if row[i] is not None}
    return _ENCODER.encode(plain).encode("ascii")


def form_bytes(row: Row, version: int) -> bytes:
    """The canonical bytes of ``row`` in hash format ``version``."""
    try:
        if version == V2_BINARY:
            return v2_bytes(row)
        if version == V1_JSON:
            return v1_bytes(row)
    except (AttributeError, TypeError, OverflowError, UnicodeEncodeError, struct.error) as exc:
        raise InvalidInput(f"the row cannot be hashed in format v{version}: {exc}") from exc
    raise UnknownChainVersion(
        f"chain_version {version!r} is no hash format this program knows "
        f"(it knows {', '.join(map(str, VERSIONS))}): run a newer audit-trail, "
        "or the row was altered"
    )
