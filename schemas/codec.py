"""Avro single-object encoding: ``C3 01`` + 8-byte little-endian CRC-64-AVRO fingerprint
of the writer schema's parsing canonical form + the binary datum. Given the schemas of a
registry (``schemas.confluent``), decoding also reads the Confluent wire format, message
by message: the first byte tells the framings apart (``C3`` or ``00``).

Encoding always writes with the family's newest version. Decoding resolves the writer
version by fingerprint and reads into the newest version of the same family, so old and
new producers coexist.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from schemas import confluent
from schemas.errors import (
    BadMarker,
    EncodeError,
    MalformedDatum,
    NoSchemaRegistry,
    TruncatedDatum,
    UnknownFingerprint,
)
from schemas.registry import SchemaRegistry, SchemaVersion, default_registry
from schemas.truncation import is_cut

MARKER = b"\xc3\x01"
HEADER_SIZE = len(MARKER) + 8


@dataclass(frozen=True)
class Decoded:
    """A decoded message: the record in the newest schema, and which version wrote it."""

    record: dict[str, Any]
    writer: SchemaVersion
    reader: SchemaVersion


class AvroCodec:
    """Encodes and decodes one registry's families. Stateless apart from the registry.

    ``uuids_as_text``: decode ``uuid`` logical values as the strings on the wire instead
    of ``uuid.UUID`` objects. The consumer stores and hashes UUIDs as text, so parsing
    each one only to print it again was a fifth of its decode time; it checks their form
    itself (``ledger.rows``). Encoding is the same either way.

    ``registry_schemas``: where Confluent schema ids resolve; without it a
    Confluent-framed message is a dead letter saying no registry is configured.
    """

    def __init__(
        self,
        registry: SchemaRegistry | None = None,
        *,
        uuids_as_text: bool = False,
        registry_schemas: confluent.ConfluentSchemas | None = None,
    ) -> None:
        self.registry = registry if registry is not None else default_registry()
        self.uuids_as_text = uuids_as_text
        self.registry_schemas = registry_schemas
        self._text_uuid: dict[int, Any] = {}

    def encode(self, family: str, record: dict[str, Any]) -> bytes:
        return self.encode_with(self.registry.latest(family), record)

    @staticmethod
    def encode_with(version: SchemaVersion, record: dict[str, Any]) -> bytes:
        buf = io.BytesIO()
        buf.write(MARKER)
        buf.write(version.fingerprint_bytes)
        try:
            schemaless_writer(buf, version.parsed, record, strict=True)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise EncodeError(f"record does not fit {version.label}: {exc}") from exc
        return buf.getvalue()

    @staticmethod
    def encode_confluent(version: SchemaVersion, schema_id: int, record: dict[str, Any]) -> bytes:
        """``record`` in the Confluent framing, ``schema_id`` being ``version``'s id."""
        single = AvroCodec.encode_with(version, record)
        return confluent.frame(schema_id, single[HEADER_SIZE:])

    def writer_of(self, data: bytes) -> SchemaVersion:
        """The schema version that wrote ``data``, from its header alone."""
        return self._header(data)[0]

    def _header(self, data: bytes) -> tuple[SchemaVersion, int]:
        """The writer and the header's size, for either framing."""
        if data[:1] == bytes([confluent.MAGIC]):
            return self._confluent_writer(data), confluent.HEADER_SIZE
        if len(data) < len(MARKER) or data[:2] != MARKER:
            raise BadMarker(
                f"not an Avro single-object message: first bytes {data[:2].hex() or 'none'}, "
                f"expected {MARKER.hex()} (or 00 and a schema id for the Confluent framing)"
            )
        if len(data) < HEADER_SIZE:
            raise TruncatedDatum(
                f"message is {len(data)} bytes, shorter than the {HEADER_SIZE}-byte header"
            )
        fp = int.from_bytes(data[2:HEADER_SIZE], "little")
        writer = self.registry.by_fingerprint(fp)
        if writer is None:
            raise UnknownFingerprint(fp)
        return writer, HEADER_SIZE

    def _confluent_writer(self, data: bytes) -> SchemaVersion:
        if len(data) < confluent.HEADER_SIZE:
            raise TruncatedDatum(
                f"message is {len(data)} bytes, shorter than the Confluent framing's "
                f"{confluent.HEADER_SIZE}-byte header"
            )
        schema_id = confluent.schema_id_of(data)
        if self.registry_schemas is None:
            raise NoSchemaRegistry(
                f"message is in the Confluent wire format (schema id {schema_id}) but no "
                "schema registry is configured (AUDIT_SCHEMA_REGISTRY_URL)"
            )
        return self.registry_schemas.writer(schema_id)

    def decode(self, data: bytes) -> Decoded:
        writer, header = self._header(data)
        reader = self.registry.latest(writer.family)
        body = io.BytesIO(data)
        body.seek(header)
        try:
            record = self._read(body, self._schema(writer), self._schema(reader), reader is writer)
        except Exception as exc:  # fastavro raises many types for short or corrupt bytes
            # Error path only: a second look tells a cut message from a corrupt one.
            if is_cut(data, header, writer, reader):
                raise TruncatedDatum(
                    f"datum ends early: {len(data) - header} body bytes do not hold a "
                    f"whole {writer.label} record"
                ) from exc
            raise MalformedDatum(f"bytes do not follow {writer.label}: {exc!r}") from exc
        if body.tell() != len(data):
            raise MalformedDatum(f"{len(data) - body.tell()} bytes trail the {writer.label} datum")
        if not isinstance(record, dict):
            raise MalformedDatum(f"{writer.label} datum is not a record")
        return Decoded(record, writer, reader)

    def _schema(self, version: SchemaVersion) -> Any:
        if not self.uuids_as_text:
            return version.parsed
        slot = version.fingerprint  # a registry's schema may share a version number
        parsed = self._text_uuid.get(slot)
        if parsed is None:
            plain = _without_uuid_logical(version.source)
            parsed = self._text_uuid[slot] = parse_schema(plain, named_schemas={})
        return parsed

    @staticmethod
    def _read(body: io.BytesIO, writer: Any, reader: Any, same: bool) -> Any:
        return schemaless_reader(
            body,
            writer,
            None if same else reader,
            return_record_name=True,
            return_record_name_override=True,
        )


def _without_uuid_logical(node: Any) -> Any:
    """A copy of a schema in which ``{"type": "string", "logicalType": "uuid"}`` is a string."""
    if isinstance(node, dict):
        if node.get("logicalType") == "uuid" and node.get("type") == "string":
            return "string"
        return {key: _without_uuid_logical(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_without_uuid_logical(item) for item in node]
    return node
