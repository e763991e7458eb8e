"""The product's exception hierarchy.

It lives here because `schemas` is the package everything else depends on and that
depends on nothing of ours. Each class says what the caller must do about it:
fix the input, dead-letter the message, retry, or back off.
"""

from __future__ import annotations


class AuditTrailError(Exception):
    """Root of every error the audit trail raises on purpose."""


class InvalidInput(AuditTrailError):
    """The caller's input is wrong: fix it; retrying the same input cannot help."""


class DeadLetter(AuditTrailError):
    """A message that can never be processed: send it to the dead-letter topic."""

    reason_code = "dead_letter"


class Retriable(AuditTrailError):
    """A transient failure: the same call may succeed later (retry with backoff)."""


# --- contract (encoding/decoding) -------------------------------------------------


class EncodeError(InvalidInput):
    """A record does not fit the schema it is being written with."""


class DecodeError(DeadLetter):
    """Bytes that cannot be read as one of our events."""

    reason_code = "decode_error"


class BadMarker(DecodeError):
    """The first two bytes are not Avro's single-object marker C3 01."""

    reason_code = "bad_marker"


class UnknownFingerprint(DecodeError):
    """The writer schema's fingerprint matches no schema version kept in schemas/."""

    reason_code = "unknown_fingerprint"

    def __init__(self, fingerprint: int) -> None:
        super().__init__(
            f"unknown schema fingerprint {fingerprint:#018x}: no schema version in schemas/ "
            "has it (a producer runs a schema this consumer does not know)"
        )
        self.fingerprint = fingerprint


class TruncatedDatum(DecodeError):
    """The message ends before the datum does."""

    reason_code = "truncated_datum"


class MalformedDatum(DecodeError):
    """The datum's bytes do not follow its writer schema (or bytes trail after it)."""

    reason_code = "malformed_datum"


class IncompatibleSchema(AuditTrailError):
    """A new schema version cannot read data written with the previous one."""


# --- Confluent wire format / schema registry --------------------------------------


class NoSchemaRegistry(DecodeError):
    """A Confluent-framed message arrived but no schema registry is configured."""

    reason_code = "no_schema_registry"


class UnknownSchemaId(DecodeError):
    """The schema registry does not know the message's schema id."""

    reason_code = "unknown_schema_id"


class UnacceptedSchema(DecodeError):
    """The registered writer schema is none of ours and our newest cannot read it."""

    reason_code = "unaccepted_schema"


class RegistryUnavailable(Retriable):
    """The schema registry did not answer (or answered with a server error)."""


class RegistryRefused(InvalidInput):
    """The schema registry refused a request (auth, an incompatible schema, a bad subject)."""
