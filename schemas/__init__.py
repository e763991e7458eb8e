"""The event contract: Avro schemas (every published version), the single-object codec,
and the backward-compatibility check. Depends on nothing else of ours."""

from schemas.codec import HEADER_SIZE, MARKER, AvroCodec, Decoded
from schemas.compatibility import Incompatibility, check_pair, check_registry
from schemas.confluent import ConfluentSchemas, subject_for
from schemas.errors import (
    AuditTrailError,
    BadMarker,
    DeadLetter,
    DecodeError,
    EncodeError,
    IncompatibleSchema,
    InvalidInput,
    MalformedDatum,
    NoSchemaRegistry,
    RegistryRefused,
    RegistryUnavailable,
    Retriable,
    TruncatedDatum,
    UnacceptedSchema,
    UnknownFingerprint,
    UnknownSchemaId,
)
from schemas.registry import SchemaRegistry, SchemaVersion, crc64_avro, default_registry
from schemas.registry_client import SchemaRegistryClient

SESSION_FAMILY = "session_event"
TRANSACTION_FAMILY = "transaction_event"

__all__ = [
    "HEADER_SIZE",
    "MARKER",
    "SESSION_FAMILY",
    "TRANSACTION_FAMILY",
    "AuditTrailError",
    "AvroCodec",
    "BadMarker",
    "ConfluentSchemas",
    "DeadLetter",
    "DecodeError",
    "Decoded",
    "EncodeError",
    "Incompatibility",
    "IncompatibleSchema",
    "InvalidInput",
    "MalformedDatum",
    "NoSchemaRegistry",
    "RegistryRefused",
    "RegistryUnavailable",
    "Retriable",
    "SchemaRegistry",
    "SchemaRegistryClient",
    "SchemaVersion",
    "TruncatedDatum",
    "UnacceptedSchema",
    "UnknownFingerprint",
    "UnknownSchemaId",
    "check_pair",
    "check_registry",
    "crc64_avro",
    "default_registry",
    "subject_for",
]
