"""The base install, for real: the wheel built from the sources, installed without extras
into a fresh venv (dependencies from the package index, as CI has it, at the versions of
constraints.txt), sends one event to the real broker with AuditProducer. Its size is
reported (a producer no longer carries chDB, pyarrow and pandas)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from audit_trail.stack import TopicLayout
from schemas import SESSION_FAMILY, AvroCodec
from tests.support.kafka import read_all

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "schemas", "producers", "consumers", "ledger",
           "audit_trail")  # fmt: skip
# The base install must stay light: the whole distribution was about 1.1 GB.
BASE_LIMIT_MB = 250

SEND_ONE = """
import importlib.util, sys
from producers import AuditProducer
from schemas import SESSION_FAMILY, TRANSACTION_FAMILY
from tests_payload import event
for extra in ("chdb", "pyarrow", "pandas", "clickhouse_driver", "fastapi", "uvicorn", "jwt"):
    assert importlib.util.find_spec(extra) is None, extra + " is installed in the base venv"
topics = {SESSION_FAMILY: sys.argv[2], TRANSACTION_FAMILY: sys.argv[3]}
with AuditProducer(sys.argv[1], topics) as producer:
    producer.send(event).result(timeout=60)
print("sent", event.event_id)
"""


def _run(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


def _size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def test_the_base_wheel_in_a_fresh_venv_sends_an_event(
    topics: TopicLayout,
    kafka_bootstrap: str,
    tmp_path: Path,
    record_property: pytest.RecordProperty,
) -> None:
    # A copy of the sources, as a fresh clone has them: building never writes into the tree.
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(src))
    (wheel,) = wheels.glob("audit_trail-*.whl")

    venv = tmp_path / "base-venv"
    _run(sys.executable, "-m", "venv", str(venv))
    python = venv / "bin" / "python"
    _run(str(python), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"),
         str(wheel))  # fmt: skip

    # One event of the catalogue, built here and handed over as JSON (the venv has no tests).
    from tests.support.samples import one_of_each

    event = next(e for e in one_of_each(seed=21).values() if e.family == SESSION_FAMILY)
    payload = tmp_path / "payload"
    payload.mkdir()
    (payload / "tests_payload.py").write_text(
        "from producers.events import parse_event_json\n"
        f"event = parse_event_json({event.model_dump_json()!r})\n",
        encoding="utf-8",
    )
    out = _run(str(python), "-c", SEND_ONE, kafka_bootstrap, topics.session, topics.transaction,
               cwd=payload)  # fmt: skip
    assert f"sent {event.event_id}" in out

    (record,) = read_all(kafka_bootstrap, topics.session, expected=1)
    decoded = AvroCodec(uuids_as_text=True).decode(record.value)
    assert str(decoded.record["event_id"]) == str(event.event_id)

    size = _size_mb(venv)
    record_property("base_venv_mb", round(size, 1))
    print(f"\nbase install venv: {size:.0f} MB (pip and setuptools included)")
    assert size < BASE_LIMIT_MB, f"the base install grew to {size:.0f} MB"
