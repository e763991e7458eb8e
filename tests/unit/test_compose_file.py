"""docker-compose.yml's structure: the services, loopback-only ports, health checks, and
the consumer configured by the same settings the code reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from audit_trail.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_services_and_images() -> None:
    services = _compose()["services"]
    assert set(services) == {"kafka", "clickhouse", "migrate", "serve"}
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")
    assert services["serve"]["build"] == services["migrate"]["build"] == "."
    assert (ROOT / "Dockerfile").exists()


def test_kafka_runs_kraft_without_zookeeper() -> None:
    env = _compose()["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "CONTROLLER" in env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert not any("ZOOKEEPER" in key for key in env)
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_every_published_port_is_on_loopback() -> None:
    for name, service in _compose()["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_every_service_has_a_health_check_and_serve_waits_for_them() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert services["serve"]["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "clickhouse": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert "/readyz" in " ".join(services["serve"]["healthcheck"]["test"])


def test_serve_keeps_its_data_in_a_named_volume_and_needs_the_master_key() -> None:
    compose = _compose()
    serve = compose["services"]["serve"]
    assert "trail-data:/data" in serve["volumes"] and "trail-data" in compose["volumes"]
    assert serve["environment"]["AUDIT_MASTER_KEY"].startswith("${AUDIT_MASTER_KEY:?")
    assert compose["services"]["migrate"]["command"] == ["migrate", "--topics"]


def test_consumer_settings_are_real_settings_pointing_at_the_compose_services() -> None:
    env = _compose()["services"]["serve"]["environment"]
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["AUDIT_CLICKHOUSE_URL"].startswith("clickhouse://")
    assert "@clickhouse:9000/" in env["AUDIT_CLICKHOUSE_URL"]
    known = {f"AUDIT_{name.upper()}" for name in Settings.model_fields}
    unknown = {key for key in env if key.startswith("AUDIT_")} - known
    assert not unknown, f"compose sets variables the code never reads: {unknown}"
    plain = {k: v for k, v in env.items() if k.startswith("AUDIT_") and "${" not in v}
    settings = Settings.model_validate(
        {k.lower().removeprefix("audit_"): v for k, v in plain.items()}
    )
    defaults = Settings()
    assert settings.topics == defaults.topics, "compose and code disagree on topic names"
    assert "serve" in _compose()["services"]["serve"]["command"]
