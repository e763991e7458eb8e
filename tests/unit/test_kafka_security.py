"""The one place that turns settings into kafka-python's security arguments."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from kafka.errors import KafkaConnectionError, SaslAuthenticationFailedError
from typer.testing import CliRunner

from audit_trail.cli.app import main
from audit_trail.kafka_connection import KafkaSecurity
from audit_trail.kafka_diagnosis import diagnosis
from audit_trail.settings import Settings
from schemas import InvalidInput


def _settings(**values: Any) -> Settings:
    return Settings.model_validate(values)


def test_plaintext_is_the_default_and_adds_nothing_else() -> None:
    assert Settings().kafka_security.client_kwargs() == {"security_protocol": "PLAINTEXT"}


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_plaintext_passes_mechanism_user_and_password(mechanism: str) -> None:
    settings = _settings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="svc",
        kafka_sasl_password="pw-9",
    )
    assert settings.kafka_security.client_kwargs() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": "svc",
        "sasl_plain_password": "pw-9",
    }


def test_secrets_never_show_in_repr_or_errors() -> None:
    settings = _settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="svc",
        kafka_sasl_password="pw-9-secret",
        schema_registry_password="reg-secret",
    )
    assert "pw-9-secret" not in repr(settings) and "reg-secret" not in repr(settings)
    assert "pw-9-secret" not in repr(settings.kafka_security)


def test_ssl_builds_a_context_that_checks_the_broker() -> None:
    kwargs = _settings(kafka_security_protocol="SSL").kafka_security.client_kwargs()
    context = kwargs["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode is ssl.CERT_REQUIRED
    relaxed = _settings(kafka_security_protocol="SSL", kafka_ssl_check_hostname=False)
    context = relaxed.kafka_security.client_kwargs()["ssl_context"]
    assert not context.check_hostname and context.verify_mode is ssl.CERT_REQUIRED


def test_unusable_tls_files_are_named(tmp_path: Path) -> None:
    missing = KafkaSecurity(security_protocol="SSL", ssl_cafile=tmp_path / "nope.pem")
    with pytest.raises(InvalidInput, match="Kafka TLS settings cannot be used"):
        missing.client_kwargs()
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(InvalidInput, match="Kafka TLS settings cannot be used"):
        KafkaSecurity(security_protocol="SSL", ssl_cafile=garbage).client_kwargs()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AUDIT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs AUDIT_KAFKA_SASL_MECHANISM"),
        (
            {"AUDIT_KAFKA_SASL_MECHANISM": "PLAIN", "AUDIT_KAFKA_SASL_USERNAME": "u"},
            "but the security protocol is PLAINTEXT",
        ),
        ({"AUDIT_KAFKA_SECURITY_PROTOCOL": "TLS"}, "AUDIT_KAFKA_SECURITY_PROTOCOL"),
        ({"AUDIT_KAFKA_SSL_CERTFILE": "/c.pem"}, "needs both AUDIT_KAFKA_SSL_CERTFILE"),
    ],
)
def test_inconsistent_settings_are_one_line_per_problem_not_a_traceback(
    env: dict[str, str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AUDIT_KAFKA_SASL_PASSWORD", "do-not-print")
    monkeypatch.setattr("sys.argv", ["audit-trail", "schemas", "register"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and "do-not-print" not in err
    assert len(err.strip().splitlines()) == 1


def test_register_without_a_registry_says_which_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDIT_SCHEMA_REGISTRY_URL", raising=False)
    from audit_trail.cli.app import app

    result = CliRunner().invoke(app, ["schemas", "register"])
    assert result.exit_code == 2 and "AUDIT_SCHEMA_REGISTRY_URL" in result.output


def _scram() -> KafkaSecurity:
    return _settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="svc",
        kafka_sasl_password="pw-9-secret",
    ).kafka_security


def test_a_refused_login_is_named_whether_refused_or_only_closed() -> None:
    refused = diagnosis([SaslAuthenticationFailedError("bad")], "k:9093", _scram())
    assert refused is not None and "refused the login of user 'svc'" in refused
    # On a busy machine the client may see only the close that follows the refusal.
    closed = diagnosis([KafkaConnectionError("socket disconnected")], "k:9093", _scram())
    assert closed is not None and "closed every connection at the login of user 'svc'" in closed
    assert "pw-9-secret" not in refused + closed
    # Without SASL a close is not a login: no diagnosis, the original error stands.
    plain = _settings().kafka_security
    assert diagnosis([KafkaConnectionError("socket disconnected")], "k:9092", plain) is None
