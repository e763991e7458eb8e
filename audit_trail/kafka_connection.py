"""How every Kafka client the project opens connects: one place builds kafka-python's
security arguments from settings, so the producer, the consumer, the dead-letter and
erasure clients and the admin client can never disagree about TLS or SASL.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

from schemas import InvalidInput

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSecurity(BaseModel):
    """The security part of the settings (README "Configuration": AUDIT_KAFKA_*)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_key_password: SecretStr | None = None
    ssl_check_hostname: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSecurity:
        uses_sasl = self.security_protocol.startswith("SASL_")
        if uses_sasl and (
            self.sasl_mechanism is None or not self.sasl_username or self.sasl_password is None
        ):
            raise ValueError(
                f"security protocol {self.security_protocol} needs AUDIT_KAFKA_SASL_MECHANISM, "
                "AUDIT_KAFKA_SASL_USERNAME and AUDIT_KAFKA_SASL_PASSWORD"
            )
        if not uses_sasl and (self.sasl_mechanism or self.sasl_username):
            raise ValueError(
                f"SASL settings are given but the security protocol is {self.security_protocol}; "
                "set AUDIT_KAFKA_SECURITY_PROTOCOL to SASL_SSL or SASL_PLAINTEXT"
            )
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError(
                "a client certificate needs both AUDIT_KAFKA_SSL_CERTFILE and _KEYFILE"
            )
        return self

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def client_kwargs(self) -> dict[str, Any]:
        """kafka-python keyword arguments for any client (producer, consumer, admin)."""
        kwargs: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.security_protocol.startswith("SASL_"):
            assert self.sasl_password is not None  # checked by _consistent
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.sasl_username
            kwargs["sasl_plain_password"] = self.sasl_password.get_secret_value()
        if self.uses_tls:
            kwargs["ssl_context"] = self._ssl_context()
        return kwargs

    def _ssl_context(self) -> ssl.SSLContext:
        # One context built here rather than kafka-python's ssl_* arguments: its errors
        # (a missing or unreadable file, a key that does not match) surface now, named.
        try:
            context = ssl.create_default_context(
                cafile=str(self.ssl_cafile) if self.ssl_cafile else None
            )
            if self.ssl_certfile is not None and self.ssl_keyfile is not None:
                password = self.ssl_key_password
                context.load_cert_chain(
                    str(self.ssl_certfile),
                    str(self.ssl_keyfile),
                    password.get_secret_value() if password else None,
                )
        except (OSError, ssl.SSLError) as exc:
            raise InvalidInput(f"Kafka TLS settings cannot be used: {exc}") from exc
        context.check_hostname = self.ssl_check_hostname
        if not self.ssl_check_hostname:
            context.verify_mode = ssl.CERT_REQUIRED  # still trust only the CA
        return context
