"""session_event v2 beside v1: `schemas check` checks the pair and catches a breaking
variant; a v1 producer writes v1 and the consumer's codec reads it into v2; a v1
producer refuses what v1 cannot carry; the simulator plays a mixed v1/v2 day."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from audit_trail.cli import app
from consumers.envelope import PayloadTypeMismatch, check_payload_type
from producers import EventEncoder
from producers.simulation import schema_version_of, simulate
from schemas import SESSION_FAMILY, TRANSACTION_FAMILY, AvroCodec, EncodeError, default_registry
from schemas.events.parsing import InvalidEvent, event_from_avro
from schemas.registry import AVRO_DIR
from tests.support.samples import one_of_each

runner = CliRunner()
TOPICS = {SESSION_FAMILY: "s", TRANSACTION_FAMILY: "t"}
DAY = datetime(2026, 11, 2, tzinfo=UTC)


def test_schemas_check_checks_the_v1_v2_pair() -> None:
    result = runner.invoke(app, ["schemas", "check"])
    assert result.exit_code == 0, result.output
    assert "session_event v2" in result.output
    assert "1 consecutive pairs compatible" in result.output


def _breaking(tmp_path: Path, version: str, change: Any) -> Path:
    shutil.copytree(AVRO_DIR, tmp_path, dirs_exist_ok=True)
    family = tmp_path / "session_event"
    schema = json.loads((family / "v2.avsc").read_text())
    payload = next(f for f in schema["fields"] if f["name"] == "payload")
    change(payload["type"])
    (family / f"{version}.avsc").write_text(json.dumps(schema))
    return tmp_path


def test_a_v2_whose_new_field_is_required_is_caught(tmp_path: Path) -> None:
    def required(records: list[dict[str, Any]]) -> None:
        joined = next(r for r in records if r["name"] == "ParticipantJoined")
        joined["fields"][-1] = {"name": "waiting_room_ms", "type": "long"}

    folder = _breaking(tmp_path, "v2", required)
    result = runner.invoke(app, ["schemas", "check", "--dir", str(folder)])
    assert result.exit_code == 1
    assert "session_event v2 cannot read v1 data" in result.output
    assert "payload.ParticipantJoined.waiting_room_ms" in result.output


def test_a_v3_dropping_the_v2_event_type_is_caught(tmp_path: Path) -> None:
    def drop(records: list[dict[str, Any]]) -> None:
        records[:] = [r for r in records if r["name"] != "ScreenShareStarted"]

    result = runner.invoke(app, ["schemas", "check", "--dir", str(_breaking(tmp_path, "v3", drop))])
    assert result.exit_code == 1
    assert "session_event v3 cannot read v2 data" in result.output
    assert "payload.ScreenShareStarted" in result.output


def test_a_v1_producer_writes_v1_and_the_consumer_reads_it_as_v2() -> None:
    joined = one_of_each()["participant_joined"].model_copy(update={"waiting_room_ms": None})
    codec = AvroCodec(default_registry())
    _topic, _key, value = EventEncoder(TOPICS, codec, versions={SESSION_FAMILY: 1}).encode(joined)
    decoded = codec.decode(value)
    assert (decoded.writer.version, decoded.reader.version) == (1, 2)
    assert decoded.record["payload"][1]["waiting_room_ms"] is None
    assert event_from_avro(decoded.record) == joined
    # The newest writer, for comparison: the same event as v2 bytes.
    assert codec.decode(EventEncoder(TOPICS, codec).encode(joined)[2]).writer.version == 2


def test_a_v1_producer_refuses_what_v1_cannot_carry_in_one_line() -> None:
    v1 = EventEncoder(TOPICS, versions={SESSION_FAMILY: 1})
    samples = one_of_each()
    with pytest.raises(EncodeError, match=r"^screen_share_started is not in session_event v1"):
        v1.encode(samples["screen_share_started"])
    waited = samples["participant_joined"].model_copy(update={"waiting_room_ms": 1200})
    with pytest.raises(EncodeError, match="field waiting_room_ms is not in session_event v1"):
        v1.encode(waited)
    with pytest.raises(ValueError, match="session_event has no schema version 7"):
        EventEncoder(TOPICS, versions={SESSION_FAMILY: 7})


def test_the_simulator_plays_a_mixed_v1_v2_day() -> None:
    events = list(simulate(300, 5, DAY))
    codec = AvroCodec()
    encoder = EventEncoder(TOPICS, codec)
    writers: Counter[tuple[str, int]] = Counter()
    for event in events:
        decoded = codec.decode(encoder.encode(event, schema_version_of(event))[2])
        writers[(decoded.writer.family, decoded.writer.version)] += 1
        v2_only = event.event_type == "screen_share_started" or (
            getattr(event, "waiting_room_ms", None) is not None
        )
        assert not v2_only or schema_version_of(event) is None, event
    assert writers[(SESSION_FAMILY, 1)] > 100 and writers[(SESSION_FAMILY, 2)] > 100, writers
    assert Counter(e.event_type for e in events)["screen_share_started"] > 10


def test_a_v1_message_claiming_the_v2_type_is_a_mismatch_not_a_v2_event() -> None:
    # A careless (or hostile) v1 writer names the new type over an old payload record.
    joined = one_of_each()["participant_joined"].model_copy(update={"waiting_room_ms": None})
    record = joined.to_avro() | {"event_type": "screen_share_started"}
    branch, payload = record["payload"]
    record["payload"] = (branch, {k: v for k, v in payload.items() if k != "waiting_room_ms"})
    codec = AvroCodec()
    v1 = default_registry().versions(SESSION_FAMILY)[0]
    decoded = codec.decode(codec.encode_with(v1, record))
    with pytest.raises(PayloadTypeMismatch, match="carries a ParticipantJoined payload"):
        check_payload_type(decoded.record)


def test_a_v2_field_out_of_range_is_an_invalid_event_naming_it() -> None:
    joined = one_of_each()["participant_joined"]
    record = joined.to_avro()
    record["payload"][1]["waiting_room_ms"] = -5
    codec = AvroCodec()
    decoded = codec.decode(codec.encode(SESSION_FAMILY, record))
    with pytest.raises(InvalidEvent, match="waiting_room_ms"):
        event_from_avro(decoded.record)
