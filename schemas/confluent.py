"""The Confluent wire format: ``00`` + 4-byte big-endian schema id + the binary datum.

Kafka Connect, ksqlDB and every Confluent serializer write it. The id means something only
to a schema registry, so a registered schema is trusted only as far as our contract goes:
it is accepted when its parsing canonical form is one of our published versions, or when
the newest version of the family it names can read its data (backward compatible). Any
other schema is refused, and its messages are dead-lettered with the reason.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

from schemas.compatibility import check_pair
from schemas.errors import DecodeError, UnacceptedSchema
from schemas.registry import SchemaRegistry, SchemaVersion, load_version

MAGIC = 0
HEADER_SIZE = 5


class SchemaSource(Protocol):
    """Where schema ids resolve (``schemas.registry_client.SchemaRegistryClient``)."""

    def schema_text(self, schema_id: int) -> str: ...


def frame(schema_id: int, datum: bytes) -> bytes:
    """``datum`` in the Confluent framing under ``schema_id``."""
    return bytes([MAGIC]) + schema_id.to_bytes(4, "big") + datum


def schema_id_of(data: bytes) -> int:
    """The schema id of a Confluent-framed message (its first byte already checked)."""
    return int.from_bytes(data[1:HEADER_SIZE], "big")


def subject_for(topic: str) -> str:
    """TopicNameStrategy, the Confluent serializers' default: ``<topic>-value``."""
    return f"{topic}-value"


class ConfluentSchemas:
    """Schema id -> the version our codec reads it as; verdicts cached per id (ids are
    immutable in a registry, so a refusal is as final as an acceptance)."""

    def __init__(self, source: SchemaSource, registry: SchemaRegistry) -> None:
        self._source = source
        self._registry = registry
        self._verdicts: dict[int, SchemaVersion | DecodeError] = {}
        self._lock = threading.Lock()

    def writer(self, schema_id: int) -> SchemaVersion:
        with self._lock:
            verdict = self._verdicts.get(schema_id)
        if verdict is None:
            try:
                verdict = self._judge(schema_id, self._source.schema_text(schema_id))
            except DecodeError as exc:  # unknown id: as final as a refusal
                verdict = exc
            with self._lock:
                self._verdicts[schema_id] = verdict
        if isinstance(verdict, DecodeError):
            raise type(verdict)(str(verdict))
        return verdict

    def _judge(self, schema_id: int, text: str) -> SchemaVersion:
        where = f"registry schema id {schema_id}"
        try:
            source = json.loads(text)
            candidate = load_version("?", 0, source)
        except Exception as exc:  # fastavro and avro raise many types for a bad schema
            raise UnacceptedSchema(f"{where} is not a valid Avro schema: {exc}") from exc
        for version in self._registry:
            if version.canonical_form == candidate.canonical_form:
                return version
        family = self._family_named(source)
        if family is None:
            raise UnacceptedSchema(
                f"{where} is a record named {_full_name(source)!r}, none of our event families"
            )
        newest = self._registry.latest(family)
        as_family = load_version(family, newest.version, source)
        problems = check_pair(as_family, newest)
        if problems:
            raise UnacceptedSchema(
                f"{where} is not one of our published {family} versions and {newest.label} "
                f"cannot read it: {problems[0].field_path}: {problems[0].message}"
            )
        # Stored under the newest version's number: that is the shape it was read into.
        return as_family

    def _family_named(self, source: Any) -> str | None:
        name = _full_name(source)
        for family in self._registry.families:
            if _full_name(self._registry.latest(family).source) == name:
                return family
        return None


def _full_name(source: Any) -> str | None:
    if not isinstance(source, dict) or not isinstance(source.get("name"), str):
        return None
    name: str = source["name"]
    namespace = source.get("namespace")
    if "." in name or not isinstance(namespace, str) or not namespace:
        return name
    return f"{namespace}.{name}"
