"""Our single-object messages re-framed for the Confluent wire format, and the schema ids.

Single-object: ``C3 01`` + 8-byte CRC-64 fingerprint + datum. Confluent: ``00`` + 4-byte
big-endian schema id + the same datum. Ids are our schema versions numbered 1, 2, ... in
registry order; the registry stub serves them.
"""

from __future__ import annotations

import json

from schemas import HEADER_SIZE, MARKER, SchemaRegistry, default_registry


def schema_ids(registry: SchemaRegistry | None = None) -> dict[int, int]:
    """Confluent schema id by our CRC-64 fingerprint (alias fingerprints included)."""
    ids: dict[int, int] = {}
    for number, version in enumerate(registry or default_registry(), start=1):
        for fp in (version.fingerprint, *version.alias_fingerprints):
            ids[fp] = number
    return ids


def registry_schemas(registry: SchemaRegistry | None = None) -> dict[int, str]:
    """What the registry stub serves: schema id -> the version's Avro schema (JSON text)."""
    return {
        number: json.dumps(dict(version.source))
        for number, version in enumerate(registry or default_registry(), start=1)
    }


def confluent_frame(single_object: bytes, ids: dict[int, int]) -> bytes:
    if single_object[:2] != MARKER:
        raise ValueError("not an Avro single-object message")
    fp = int.from_bytes(single_object[2:HEADER_SIZE], "little")
    return b"\x00" + ids[fp].to_bytes(4, "big") + single_object[HEADER_SIZE:]
