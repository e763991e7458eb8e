"""The event contract: Avro schemas (every published version), the single-object codec,
and the backward-compatibility check. Depends on nothing else of ours."""

from schemas.codec import HEADER_SIZE, MARKER, AvroCodec, Decoded
from schemas.compatibility import Incompatibility, check_pair, check_registry
from schemas.errors import (
    AuditTrailError,
    BadMarker,
    DeadLetter,
    DecodeError,
    EncodeError,
    IncompatibleSchema,
    InvalidInput,
    MalformedDatum,
    Retriable,
    TruncatedDatum,
    UnknownFingerprint,
)
from schemas.registry import SchemaRegistry, SchemaVersion, crc64_avro, default_registry

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
    "DeadLetter",
    "DecodeError",
    "Decoded",
    "EncodeError",
    "Incompatibility",
    "IncompatibleSchema",
    "InvalidInput",
    "MalformedDatum",
    "Retriable",
    "SchemaRegistry",
    "SchemaVersion",
    "TruncatedDatum",
    "UnknownFingerprint",
    "check_pair",
    "check_registry",
    "crc64_avro",
    "default_registry",
]
