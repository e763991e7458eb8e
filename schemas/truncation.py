"""Telling a cut message from a corrupt one, once a datum has failed to decode.

Only ever run on the error path (``AvroCodec.decode``), so it may read the bytes twice:

1. *Do zeros complete it?* The bytes plus zero padding are read again: zeros read as 0,
   "", false, the first union branch and the first enum symbol, so any prefix of a valid
   datum then reads (fastavro signals a short read with EOFError, IndexError or others
   depending on the type, so the question is asked directly).
2. *Did a read run past the end?* Padding cannot complete a cut inside a logical value
   (half a UUID string, a date): its zeros are no valid value either. So the datum is
   read again with logical types stripped, noting whether a read asked for more bytes
   than were left, and a plausible few (a garbled length asks for far more).
"""

from __future__ import annotations

import io
from typing import Any

from fastavro import parse_schema, schemaless_reader

from schemas.registry import SchemaVersion

_PADDING = 1 << 16  # longest string/bytes a truncated message may still be in
# No message of ours is longer (Kafka's default limit): a length beyond it is garbage.
_MAX_MESSAGE = 1 << 20

_PLAIN: dict[int, Any] = {}  # writer fingerprint -> its schema with logical types stripped


def is_cut(data: bytes, header: int, writer: SchemaVersion, reader: SchemaVersion) -> bool:
    """Whether ``data`` (its datum from ``header`` on) is the start of a valid datum."""
    return _zeros_complete(data, header, writer, reader) or _reads_past_end(data, header, writer)


def _zeros_complete(data: bytes, header: int, writer: SchemaVersion, reader: SchemaVersion) -> bool:
    padded = io.BytesIO(data + bytes(_PADDING))
    padded.seek(header)
    try:
        schemaless_reader(
            padded,
            writer.parsed,
            None if reader is writer else reader.parsed,
            return_record_name=True,
            return_record_name_override=True,
        )
    except Exception:  # any failure: zeros do not complete it
        return False
    return True


class _ShortReads(io.BytesIO):
    """Notes whether a read asked for more bytes than were left (and than a garbled
    length would: a cut message asks for a plausible few)."""

    short = False

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        if size is not None and len(data) < size <= _MAX_MESSAGE:
            self.short = True
        return data


def _reads_past_end(data: bytes, header: int, writer: SchemaVersion) -> bool:
    plain = _PLAIN.get(writer.fingerprint)
    if plain is None:
        plain = _PLAIN[writer.fingerprint] = parse_schema(
            _without_logical(writer.source), named_schemas={}
        )
    body = _ShortReads(data)
    body.seek(header)
    try:
        schemaless_reader(body, plain, None)
    except Exception:  # fastavro raises many types at the end of the bytes
        return body.short
    return body.short


def _without_logical(node: Any) -> Any:
    """A copy of a schema with every logical type replaced by its underlying type."""
    if isinstance(node, dict):
        if "logicalType" in node and isinstance(node.get("type"), str):
            return node["type"]
        return {key: _without_logical(item) for key, item in node.items()}
    if isinstance(node, list):
        return [_without_logical(item) for item in node]
    return node
