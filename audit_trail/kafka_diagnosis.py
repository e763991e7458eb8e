"""Why a Kafka connection failed, in one line an operator can act on.

kafka-python retries a refused login or an untrusted certificate until its bootstrap
timeout and then reports only that it could not bootstrap; the cause is in its log. While
a command makes its first connection, the connection errors it logs are collected here,
and a failure is re-raised naming the setting to fix.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from kafka.errors import SaslAuthenticationFailedError

from audit_trail.kafka_connection import KafkaSecurity
from schemas import AuditTrailError


class KafkaConnectionRefused(AuditTrailError):
    """The broker answered but the connection was refused (credentials, TLS trust)."""


class _ConnectionErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        self.errors.extend(a for a in args if isinstance(a, BaseException))


@contextmanager
def diagnosed(bootstrap: str, security: KafkaSecurity) -> Iterator[None]:
    """Run the block; if it fails after a refused login or TLS handshake, say which."""
    seen = _ConnectionErrors()
    kafka_log = logging.getLogger("kafka")
    kafka_log.addHandler(seen)
    try:
        yield
    except AuditTrailError as exc:
        cause = diagnosis(seen.errors, bootstrap, security)
        if cause is None:
            raise
        raise KafkaConnectionRefused(cause) from exc
    finally:
        kafka_log.removeHandler(seen)


def diagnosis(errors: list[BaseException], bootstrap: str, security: KafkaSecurity) -> str | None:
    for error in reversed(errors):
        text = str(error)
        if isinstance(error, SaslAuthenticationFailedError) or "Authentication failed" in text:
            return (
                f"Kafka at {bootstrap} refused the login of user {security.sasl_username!r} "
                f"({security.sasl_mechanism}): check AUDIT_KAFKA_SASL_USERNAME and "
                "AUDIT_KAFKA_SASL_PASSWORD"
            )
        if "CERTIFICATE_VERIFY_FAILED" in text and "mismatch" in text:
            return (
                f"the TLS certificate of Kafka at {bootstrap} does not name that host: use the "
                "name it was issued for, or set AUDIT_KAFKA_SSL_CHECK_HOSTNAME=false"
            )
        if "CERTIFICATE_VERIFY_FAILED" in text:
            where = security.ssl_cafile or "the system's trust store"
            return (
                f"the TLS certificate of Kafka at {bootstrap} is not signed by a CA in {where}: "
                "set AUDIT_KAFKA_SSL_CAFILE to the CA that signed the broker's certificate"
            )
        if "WRONG_VERSION_NUMBER" in text or "UNEXPECTED_EOF" in text:
            return (
                f"the TLS handshake with Kafka at {bootstrap} failed: is that a "
                f"{security.security_protocol} listener? (AUDIT_KAFKA_SECURITY_PROTOCOL)"
            )
    if security.sasl_mechanism and any("socket disconnected" in str(e) for e in errors):
        # The broker answers a refused login and then closes the connection; on a busy
        # machine the client sometimes sees only the close (seen in CI). A broker that is
        # down refuses the connection instead, so a close here is most likely the login.
        return (
            f"Kafka at {bootstrap} closed every connection at the login of user "
            f"{security.sasl_username!r} ({security.sasl_mechanism}): check "
            "AUDIT_KAFKA_SASL_USERNAME and AUDIT_KAFKA_SASL_PASSWORD"
        )
    return None
