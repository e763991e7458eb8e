"""Guards in front of readers and the consumer, without engines: settings name the bad
variable in one line; a reader never creates a store; rows past retention are emptied,
not sealed, and counted."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from audit_trail.settings import InvalidSetting, Settings
from ledger.columns import INDEX
from ledger.errors import StoreError, StoreUnavailable
from ledger.expiry import ExpiryGate
from ledger.factory import NoStore, open_store, require_server_store
from ledger.retention import RetentionPolicy
from ledger.trail_row import TrailRow
from producers.simulation.trail_rows import decoded_rows
from tests.support.samples import one_of_each

NOW = datetime(2026, 11, 26, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "value"),
    [("AUDIT_BATCH_MAX_ROWS", "abc"), ("AUDIT_TOPIC_PARTITIONS", "0"), ("AUDIT_DATABASE", "a-b")],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidSetting) as caught:
        Settings()
    message = str(caught.value)
    assert "\n" not in message and name in message and repr(value) in message


def test_a_reader_refuses_a_directory_without_a_store_and_creates_nothing(tmp_path: Path) -> None:
    typo = tmp_path / "vra"
    with pytest.raises(NoStore, match="AUDIT_DATA_DIR"):
        open_store(None, typo, create=False)
    assert not typo.exists()
    (typo / "metadata").mkdir(parents=True)  # a directory, but not a store
    with pytest.raises(NoStore):
        open_store(None, typo, create=False)
    assert list(typo.iterdir()) == [typo / "metadata"]


class Recording:
    def __init__(self) -> None:
        self.sealed = 0

    def seal(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        self.sealed += 1
        return row


def _row(event_type: str, at: datetime) -> TrailRow:
    event = one_of_each()[event_type]
    return decoded_rows([event.model_copy(update={"occurred_at": at})], "t")[0]


def test_rows_past_retention_are_emptied_not_sealed_and_counted() -> None:
    inner = Recording()
    gate = ExpiryGate(inner, RetentionPolicy(), clock=lambda: NOW)
    old_chat = gate.seal(_row("chat_message_sent", datetime(2025, 11, 1, tzinfo=UTC)))
    old_payment = gate.seal(_row("payment_failed", datetime(2021, 11, 1, tzinfo=UTC)))
    young_payment = gate.seal(_row("payment_failed", datetime(2021, 12, 1, tzinfo=UTC)))
    assert inner.sealed == 1, "only the row still within retention is sealed (a key)"
    for row in (old_chat, old_payment):
        assert row[INDEX["network_ip"]] is None and row[INDEX["payer_name"]] is None
    assert young_payment[INDEX["payer_name"]] is not None
    assert old_payment[INDEX["amount_minor"]] is not None, "only personal fields go"
    assert dict(gate.expired) == {"chat_note_file": 1, "billing": 1}
    report = gate.report()
    assert "2 row(s)" in report and "billing older than 60 months" in report
    assert ExpiryGate(inner, RetentionPolicy()).report() == ""


class FakeServer:
    """Stands in for ServerStore's one query (no server here; the contract suite runs a
    real one with Docker)."""

    database = "audit"

    def __init__(self, answer: list[tuple[int]] | StoreError) -> None:
        self.answer, self.closed = answer, False

    def query(self, sql: str, params: Any = None) -> list[tuple[int]]:
        if isinstance(self.answer, StoreError):
            raise self.answer
        return self.answer

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    "answer", [[(0,)], StoreError("Code: 81. Database audit does not exist", code=81)]
)
def test_a_reader_refuses_a_server_database_without_a_store(answer: Any) -> None:
    server = FakeServer(answer)
    with pytest.raises(NoStore, match="AUDIT_CLICKHOUSE_URL"):
        require_server_store(server, "clickhouse://u:p@db:9000/audit")  # type: ignore[arg-type]
    assert server.closed


def test_a_server_store_that_exists_is_used_and_other_failures_pass_through() -> None:
    require_server_store(FakeServer([(1,)]), "clickhouse://db/audit")  # type: ignore[arg-type]
    down = FakeServer(StoreUnavailable("query failed: Code: 210. Connection refused", code=210))
    with pytest.raises(StoreUnavailable, match=r"cannot reach .* db:9000/audit .* refused"):
        require_server_store(down, "clickhouse://db/audit")  # type: ignore[arg-type]
    rejected = FakeServer(StoreError("Code: 497. Not enough privileges", code=497))
    with pytest.raises(StoreError, match="privileges"):
        require_server_store(rejected, "clickhouse://db/audit")  # type: ignore[arg-type]
