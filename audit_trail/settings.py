"""Settings from environment variables (frozen: read once, passed down, never mutated)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from audit_trail.kafka_connection import KafkaSecurity, SaslMechanism, SecurityProtocol
from audit_trail.topic_configs import DEFAULT_RETENTION_DAYS
from audit_trail.topic_layout import DEFAULT_TOPICS, TopicLayout
from schemas import SESSION_FAMILY, TRANSACTION_FAMILY, InvalidInput

_TOPIC_NAME = r"^[A-Za-z0-9._-]{1,249}$"


class InvalidSetting(InvalidInput):
    """An environment variable holds a value its setting cannot take."""


def _env_name(field: str) -> str:
    name = field.upper()
    # KAFKA_BOOTSTRAP_SERVERS is the one setting read without the prefix.
    return (
        name if name.startswith("AUDIT_") or name == "KAFKA_BOOTSTRAP_SERVERS" else f"AUDIT_{name}"
    )


class Settings(BaseSettings):
    """Every knob, with its environment variable. See README "Configuration"."""

    model_config = SettingsConfigDict(env_prefix="AUDIT_", frozen=True, extra="ignore")

    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "AUDIT_KAFKA_BOOTSTRAP_SERVERS"),
        description="Use this broker; unset means the local stack started by `stack up`.",
    )
    # How every Kafka client connects (audit_trail.kafka_connection); secrets are SecretStr
    # so that no repr, log line or error message shows them.
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    kafka_ssl_key_password: SecretStr | None = None
    kafka_ssl_check_hostname: bool = True

    # Confluent wire format: where schema ids resolve, and which framing producers write.
    schema_registry_url: str | None = None
    schema_registry_user: str | None = None
    schema_registry_password: SecretStr | None = None
    producer_framing: Literal["single-object", "confluent"] = "single-object"

    # Kafka's legal topic names: an empty or mistyped name is refused here, in one line,
    # not reported later as a missing topic.
    topic_session: str = Field(default=DEFAULT_TOPICS.session, pattern=_TOPIC_NAME)
    topic_transaction: str = Field(default=DEFAULT_TOPICS.transaction, pattern=_TOPIC_NAME)
    topic_dead_letter: str = Field(default=DEFAULT_TOPICS.dead_letter, pattern=_TOPIC_NAME)
    topic_erasures: str = Field(default=DEFAULT_TOPICS.erasures, pattern=_TOPIC_NAME)
    topic_partitions: int = Field(default=4, ge=1)
    # Used only by `topics create` / `migrate --topics`; 1 suits the local one-node broker.
    topic_replication_factor: int = Field(default=1, ge=1, le=32)
    # The erasure promise: records leave the topics the project creates this many days
    # after they were written (README "Personal data, erasure and retention").
    topic_retention_days: int = Field(default=DEFAULT_RETENTION_DAYS, ge=1, le=3650)

    clickhouse_url: str | None = Field(
        default=None, description="clickhouse://user:password@host:9000/db; unset = embedded"
    )
    data_dir: Path = Field(default=Path("var"), description="Embedded store directory")
    database: str = Field(default="audit", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

    consumer_group: str = "audit-trail-ingest"
    # How soon a dead consumer's partitions move to another (Kafka's floor is 6 s).
    consumer_session_timeout_ms: int = Field(default=10_000, ge=6_000)
    batch_max_rows: int = Field(default=5000, ge=1)
    batch_max_age_ms: int = Field(default=250, ge=0)
    ingest_workers: int | None = Field(
        default=None,
        ge=0,
        le=256,
        description="Processes decoding records for the consumer; unset: one per core "
        "beyond the consumer's own (none below three cores); 0: decode in the consumer "
        "process",
    )
    dead_letter_max_consecutive: int = Field(default=200, ge=1)
    dead_letter_max_ratio: float = Field(default=0.5, gt=0, le=1)
    idempotency_window_days: int = Field(default=30, ge=7, le=365)
    metrics_port: int | None = Field(default=None, description="Serve Prometheus metrics")
    metrics_address: str = "127.0.0.1"

    master_key: str | None = Field(
        default=None,
        description="Base64 32-byte key wrapping subjects' keys; unset: <DATA_DIR>.master.key",
    )
    checkpoint_key: str | None = Field(
        default=None,
        description="Ed25519 seed (base64) or its file signing checkpoints; "
        "unset: <DATA_DIR>.checkpoint.key",
    )
    checkpoint_origin: str = Field(
        default="audit-trail",
        pattern=r"^[A-Za-z0-9._/-]{1,80}$",
        description="Names the trees (origin TOPIC/PARTITION) and the signing key",
    )
    retention_chat_note_file_months: int = Field(default=12, ge=1)
    retention_billing_months: int = Field(default=60, ge=1)
    retention_other_months: int = Field(default=24, ge=1)

    # Read by audit_trail.logs before anything else (a bad value is logged, not fatal).
    log_format: str = Field(default="text", description="text or json (one object a line)")
    log_level: str = Field(default="WARNING", description="serve defaults to INFO")

    migrate_on_start: bool | None = Field(
        default=None,
        description="consume/serve apply migrations and retention at start; "
        "unset: yes for the embedded store, no for a ClickHouse server (run `migrate`)",
    )

    # Viewer tokens (see audit_trail/tokens.py). Dicts are JSON: '{"2026-11": "..."}'.
    token_hs256_secrets: dict[str, str] = Field(
        default_factory=dict, description="kid -> HS256 shared secret (>= 32 bytes)"
    )
    token_ed25519_public_keys: dict[str, Path] = Field(
        default_factory=dict, description="kid -> PEM file of an Ed25519 public key"
    )
    token_ed25519_private_key: Path | None = Field(
        default=None, description="PEM private key `token mint` signs EdDSA tokens with"
    )
    token_kid: str | None = Field(default=None, description="The kid `token mint` uses")
    serve_host: str = "127.0.0.1"
    serve_port: int = Field(default=8080, ge=0, le=65535)
    ready_max_lag: int = Field(
        default=10_000, ge=0, description="/readyz fails while more records wait in Kafka"
    )

    @property
    def migrates_at_start(self) -> bool:
        if self.migrate_on_start is not None:
            return self.migrate_on_start
        return not self.clickhouse_url

    @model_validator(mode="wrap")
    @classmethod
    def _one_line_per_setting(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # pydantic's report is a multi-line traceback-like text; an operator needs the
        # variable's name, its value and what is wrong, one line each.
        try:
            settings = handler(data)
        except ValidationError as exc:
            problems = [_problem(e) for e in exc.errors()]
            raise InvalidSetting("invalid setting " + "; ".join(problems)) from exc
        try:
            settings.kafka_security  # noqa: B018 - built only to check it
        except ValidationError as exc:
            problems = [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
            raise InvalidSetting("invalid Kafka settings: " + "; ".join(problems)) from None
        return settings

    @property
    def kafka_security(self) -> KafkaSecurity:
        return KafkaSecurity(
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password,
            ssl_cafile=self.kafka_ssl_cafile,
            ssl_certfile=self.kafka_ssl_certfile,
            ssl_keyfile=self.kafka_ssl_keyfile,
            ssl_key_password=self.kafka_ssl_key_password,
            ssl_check_hostname=self.kafka_ssl_check_hostname,
        )

    @property
    def topics(self) -> TopicLayout:
        return TopicLayout(
            self.topic_session, self.topic_transaction, self.topic_dead_letter, self.topic_erasures
        )

    @property
    def family_topics(self) -> dict[str, str]:
        """Which topic each event family is sent to."""
        return {SESSION_FAMILY: self.topic_session, TRANSACTION_FAMILY: self.topic_transaction}


def _problem(error: Any) -> str:
    """One validation error as NAME=value: what is wrong; secrets and whole-model errors
    (whose input is every setting) are shown without their value."""
    field = str(error["loc"][0]) if error["loc"] else ""
    if not field:
        return f"{error['msg']}"
    secret = any(word in field for word in ("password", "key", "secret"))
    value = "<hidden>" if secret else repr(str(error.get("input"))[:80])
    return f"{_env_name(field)}={value}: {error['msg']}"
