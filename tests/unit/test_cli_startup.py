"""`audit-trail --help` and `--version` load no heavy library: sub-commands import what
they need only when they run (audit_trail.cli.lazy). Checked by the modules a fresh
interpreter holds afterwards, not by timing (CI machines are slow and shared)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer.main

from audit_trail.cli.app import COMMANDS, app

# The store's engines and drivers, the HTTP stack, the Kafka client, the Avro library, the
# event models and the local Kafka stack: none is needed to print help or the version.
HEAVY = (
    "chdb",
    "pyarrow",
    "clickhouse_driver",
    "fastapi",
    "uvicorn",
    "starlette",
    "kafka",
    "fastavro",
    "producers",
    "ledger",
    "audit_trail.stack",
    "audit_trail.wiring",
)

_PROBE = """
import json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["audit-trail", *json.loads(sys.argv[1])]
from audit_trail.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
loaded = sorted({m for m in sys.modules for h in heavy if m == h or m.startswith(h + ".")})
print("@@" + json.dumps({"code": code, "loaded": loaded}))
"""


def _run(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(list(args)), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    marker = [line for line in done.stdout.splitlines() if line.startswith("@@")]
    assert marker, f"no report: {done.stdout[-500:]} {done.stderr[-2000:]}"
    result: dict[str, object] = json.loads(marker[-1][2:])
    return result


@pytest.mark.parametrize("args", [("--help",), ("--version",), ()])
def test_help_and_version_import_no_heavy_library(args: tuple[str, ...]) -> None:
    result = _run(*args)
    assert result["code"] in (0, None, 2)
    assert result["loaded"] == [], f"`audit-trail {' '.join(args)}` imported {result['loaded']}"


@pytest.mark.parametrize("args", [("--help",), ()])
def test_the_help_lists_every_command_with_its_summary(args: tuple[str, ...]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "audit_trail.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    assert done.returncode == (0 if args else 2), done.stderr
    assert "Usage: " in done.stdout and done.stderr == ""
    for entry in COMMANDS:
        assert f"  {entry.name} " in done.stdout
        assert entry.summary[:30] in done.stdout


def test_each_summary_is_the_loaded_commands_own() -> None:
    group = typer.main.get_command(app)
    for entry in COMMANDS:
        loaded = entry.load()
        assert loaded.get_short_help_str(300) == entry.stub().get_short_help_str(300), (
            f"{entry.name}: the summary read from its source differs from its loaded help"
        )
        assert group.get_command(None, entry.name) is not None  # type: ignore[arg-type]


def test_a_lazy_command_still_runs_and_an_unknown_one_is_one_line() -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "audit_trail.cli", "token", "mint", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0 and "--role" in ran.stdout
    unknown = subprocess.run(
        [sys.executable, "-m", "audit_trail.cli", "trial"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("error: ") and len(unknown.stderr.strip().splitlines()) == 1
    assert "trail" in unknown.stderr  # the close match is suggested
