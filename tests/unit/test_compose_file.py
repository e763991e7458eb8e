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
    assert set(services) == {"kafka", "clickhouse", "consumer"}
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")
    assert services["consumer"]["build"] == "."
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


def test_every_service_has_a_health_check_and_the_consumer_waits_for_them() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    depends = services["consumer"]["depends_on"]
    assert depends == {
        "kafka": {"condition": "service_healthy"},
        "clickhouse": {"condition": "service_healthy"},
    }


def test_consumer_settings_are_real_settings_pointing_at_the_compose_services() -> None:
    env = _compose()["services"]["consumer"]["environment"]
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["AUDIT_CLICKHOUSE_URL"].startswith("clickhouse://")
    assert "@clickhouse:9000/" in env["AUDIT_CLICKHOUSE_URL"]
    known = {f"AUDIT_{name.upper()}" for name in Settings.model_fields}
    unknown = {key for key in env if key.startswith("AUDIT_")} - known
    assert not unknown, f"compose sets variables the code never reads: {unknown}"
    settings = Settings.model_validate(
        {k.lower().removeprefix("audit_"): v for k, v in env.items() if k.startswith("AUDIT_")}
    )
    defaults = Settings()
    assert settings.topics == defaults.topics, "compose and code disagree on topic names"
    assert "consume" in _compose()["services"]["consumer"]["command"]
