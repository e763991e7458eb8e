"""`audit-trail schemas check`: consecutive versions must be backward compatible."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from audit_trail.cli import app
from schemas import check_registry, default_registry
from schemas.registry import AVRO_DIR

runner = CliRunner()


def test_shipped_schemas_are_compatible() -> None:
    assert check_registry(default_registry()) == []
    result = runner.invoke(app, ["schemas", "check"])
    assert result.exit_code == 0, result.output
    assert "ok: 2 families" in result.output


def _with_v2(tmp_path: Path, change: Any) -> Path:
    shutil.copytree(AVRO_DIR, tmp_path, dirs_exist_ok=True)
    family = tmp_path / "session_event"
    v2 = copy.deepcopy(json.loads((family / "v1.avsc").read_text()))
    change(v2)
    (family / "v2.avsc").write_text(json.dumps(v2))
    return tmp_path


def _payload_record(schema: dict[str, Any], name: str) -> dict[str, Any]:
    payload = next(f for f in schema["fields"] if f["name"] == "payload")
    return next(r for r in payload["type"] if r["name"] == name)


def test_new_field_without_default_is_caught_and_named(tmp_path: Path) -> None:
    def add_field(schema: dict[str, Any]) -> None:
        _payload_record(schema, "NoteSaved")["fields"].append({"name": "word_count", "type": "int"})

    result = runner.invoke(app, ["schemas", "check", "--dir", str(_with_v2(tmp_path, add_field))])
    assert result.exit_code == 1
    assert "payload.NoteSaved.word_count" in result.output
    assert "session_event v2 cannot read v1" in result.output


def test_new_field_with_default_passes(tmp_path: Path) -> None:
    def add_field(schema: dict[str, Any]) -> None:
        _payload_record(schema, "NoteSaved")["fields"].append(
            {"name": "word_count", "type": ["null", "int"], "default": None}
        )

    result = runner.invoke(app, ["schemas", "check", "--dir", str(_with_v2(tmp_path, add_field))])
    assert result.exit_code == 0, result.output


def test_narrowed_type_and_removed_event_are_caught(tmp_path: Path) -> None:
    def narrow(schema: dict[str, Any]) -> None:
        record = _payload_record(schema, "ParticipantReconnected")
        for field in record["fields"]:
            if field["name"] == "offline_ms":
                field["type"] = "int"

    result = runner.invoke(app, ["schemas", "check", "--dir", str(_with_v2(tmp_path, narrow))])
    assert result.exit_code == 1
    assert "payload.ParticipantReconnected.offline_ms" in result.output

    def remove(schema: dict[str, Any]) -> None:
        payload = next(f for f in schema["fields"] if f["name"] == "payload")
        payload["type"] = [r for r in payload["type"] if r["name"] != "SessionRated"]

    result = runner.invoke(
        app, ["schemas", "check", "--dir", str(_with_v2(tmp_path / "r", remove))]
    )
    assert result.exit_code == 1
    assert "payload.SessionRated" in result.output
