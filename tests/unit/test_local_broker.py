"""Without KAFKA_BOOTSTRAP_SERVERS, runtime finds the local broker only through the finder
the CLI registers (it never imports the local stack itself)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from audit_trail import local_broker, wiring
from audit_trail.settings import Settings


@pytest.fixture
def no_broker_setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("AUDIT_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    yield
    local_broker.register(None)


def test_unregistered_there_is_no_broker_and_the_message_says_what_to_do(
    no_broker_setting: None,
) -> None:
    local_broker.register(None)
    with pytest.raises(wiring.NoBroker, match="set KAFKA_BOOTSTRAP_SERVERS"):
        wiring.bootstrap_servers(Settings())


def test_the_registered_finder_answers_and_a_setting_wins_over_it(
    no_broker_setting: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_broker.register(lambda: "127.0.0.1:1234")
    assert wiring.bootstrap_servers(Settings()) == "127.0.0.1:1234"
    local_broker.register(lambda: None)  # the stack is not running
    with pytest.raises(wiring.NoBroker):
        wiring.bootstrap_servers(Settings())
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9092")
    assert wiring.bootstrap_servers(Settings()) == "broker:9092"


def test_the_cli_registers_the_stacks_finder_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    cli = importlib.import_module("audit_trail.cli.app")  # the module, not its Typer

    monkeypatch.setattr("sys.argv", ["audit-trail", "--version"])
    try:
        with pytest.raises(SystemExit):
            cli.main()
        assert local_broker._finder is cli._stack_broker
    finally:
        local_broker.register(None)
