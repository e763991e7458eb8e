"""The pure parts of the local Kafka stack: config rendering, ports, ids, state, paths."""

from __future__ import annotations

import base64
import os
import socket
from pathlib import Path

import pytest

from audit_trail.stack import kafka_down, kafka_status, stack_dir
from audit_trail.stack.errors import tail_of
from audit_trail.stack.kraft import (
    BrokerPorts,
    free_ports,
    new_cluster_id,
    render_log4j_properties,
    render_server_properties,
)
from audit_trail.stack.maven import POM_PATH, jar_dir, kafka_version
from audit_trail.stack.paths import StackPaths
from audit_trail.stack.probe import parse_bootstrap
from audit_trail.stack.secure_listener import AUTHORIZER, SecureListener
from audit_trail.stack.state import BrokerState, clear_state, read_state, write_state


@pytest.fixture()
def local_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty stack dir, with no external broker configured."""
    monkeypatch.setenv("AUDIT_STACK_DIR", str(tmp_path / "stack"))
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    return tmp_path / "stack"


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")
    return {key: value for key, value in pairs}


def test_server_properties_has_roles_and_chosen_ports(tmp_path: Path) -> None:
    props = _properties(render_server_properties(BrokerPorts(39092, 39093), tmp_path / "data"))
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:39092,CONTROLLER://127.0.0.1:39093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:39092"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:39093"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["log.dirs"] == str(tmp_path / "data")
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["num.partitions"] == "4"
    assert props["auto.create.topics.enable"] == "false"


@pytest.mark.parametrize("acls", [False, True])
def test_acls_are_enforced_only_when_asked(tmp_path: Path, acls: bool) -> None:
    secure = SecureListener("127.0.0.1", 39094, tmp_path, "pw", acls=acls)
    text = render_server_properties(BrokerPorts(39092, 39093), tmp_path / "data", secure)
    props = _properties(text)
    if not acls:
        assert "authorizer.class.name" not in props and "super.users" not in props
        return
    assert props["authorizer.class.name"] == AUTHORIZER
    # Only the loopback PLAINTEXT listener (and the controller) is the administrator:
    # the SCRAM user gets nothing an ACL does not grant.
    assert props["super.users"] == "User:ANONYMOUS"
    assert "allow.everyone.if.no.acl.found" not in props


def test_log4j_properties_writes_to_the_given_file(tmp_path: Path) -> None:
    props = _properties(render_log4j_properties(tmp_path / "server.log"))
    assert props["log4j.appender.file.File"] == str(tmp_path / "server.log")
    assert props["log4j.rootLogger"].startswith("INFO")


def test_free_ports_are_distinct_and_bindable() -> None:
    ports = free_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))


def test_cluster_id_is_a_kafka_uuid_string() -> None:
    for _ in range(200):
        cluster_id = new_cluster_id()
        assert len(cluster_id) == 22
        assert not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_state_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "broker.json"
    state = BrokerState(
        pid=1234,
        bootstrap="127.0.0.1:39092",
        controller="127.0.0.1:39093",
        kafka_version="3.9.2",
        cluster_id=new_cluster_id(),
        started_at=1_700_000_000.5,
    )
    assert read_state(path) is None
    write_state(path, state)
    assert read_state(path) == state
    clear_state(path)
    assert read_state(path) is None
    clear_state(path)  # clearing twice is fine


def test_corrupt_state_file_reads_as_none(tmp_path: Path) -> None:
    path = tmp_path / "broker.json"
    for text in ("{not json", "[]", '{"version": 1, "pid": 5}', '{"version": 99}'):
        path.write_text(text, encoding="utf-8")
        assert read_state(path) is None, text


def test_stack_dir_honours_env(local_stack: Path) -> None:
    assert stack_dir() == local_stack.resolve()
    assert StackPaths.default().state_file == local_stack.resolve() / "broker.json"


def test_stack_dir_defaults_to_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDIT_STACK_DIR", raising=False)
    assert stack_dir().name == ".stack"
    assert (stack_dir().parent / "pyproject.toml").is_file()


def test_status_without_a_broker(local_stack: Path) -> None:
    status = kafka_status()
    assert (status.running, status.external, status.answers) == (False, False, False)
    assert status.bootstrap is None
    assert status.pid is None
    kafka_down()  # nothing to stop: a no-op, not an error


def test_status_ignores_a_pid_that_is_not_our_broker(local_stack: Path) -> None:
    # Our own pid is alive but is not a Kafka JVM: what a reused pid looks like.
    state = BrokerState(os.getpid(), "127.0.0.1:1", "127.0.0.1:2", "3.9.2", new_cluster_id(), 0.0)
    write_state(StackPaths.default().state_file, state)
    status = kafka_status()
    assert status.running is False
    assert status.answers is False
    assert status.pid == os.getpid()


def test_jar_cache_is_keyed_on_pom_content(tmp_path: Path) -> None:
    assert kafka_version().count(".") == 2
    paths = StackPaths(tmp_path)
    pom = tmp_path / "pom.xml"
    pom.write_bytes(POM_PATH.read_bytes())
    first = jar_dir(paths, pom)
    assert first.name.startswith(f"kafka-{kafka_version()}-")
    pom.write_bytes(POM_PATH.read_bytes() + b"<!-- changed -->\n")
    assert jar_dir(paths, pom) != first


def test_parse_bootstrap() -> None:
    assert parse_bootstrap("127.0.0.1:9092") == [("127.0.0.1", 9092)]
    assert parse_bootstrap("a:1, b:2") == [("a", 1), ("b", 2)]
    assert parse_bootstrap("kafka") == [("kafka", 9092)]
    with pytest.raises(ValueError):
        parse_bootstrap("a:notaport")


def test_tail_of(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)), encoding="utf-8")
    assert tail_of(log, 2) == "line 98\nline 99"
    assert "does not exist" in tail_of(tmp_path / "missing.log")
