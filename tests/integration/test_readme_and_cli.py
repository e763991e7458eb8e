"""What README promises, run for real: the emit example and the CLI against the broker."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from audit_trail.stack import DEFAULT_TOPICS, ensure_topics
from producers.events import EVENT_TYPES, event_from_avro
from schemas import AvroCodec
from tests.support.kafka import read_all
from tests.support.samples import one_of_each

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "audit_trail.cli"]


def _example(name: str) -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(rf"<!-- example:{name} -->\n```python\n(.*?)```", text, re.S)
    assert block, f"README has no example {name}"
    return block.group(1)


def _env(bootstrap: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, **extra}


def test_readme_emit_example_runs_and_the_event_arrives(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = _example("emit")
    assert len(code.strip().splitlines()) <= 14
    ensure_topics(kafka_bootstrap, DEFAULT_TOPICS)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    scope: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), scope)
    joined, delivered = scope["joined"], scope["delivered"]
    records = read_all(kafka_bootstrap, DEFAULT_TOPICS.session, expected=10**9, timeout_s=5)
    mine = [
        r for r in records if r.partition == delivered.partition and r.offset == delivered.offset
    ]  # type: ignore[attr-defined]
    assert len(mine) == 1
    assert event_from_avro(AvroCodec().decode(mine[0].value).record) == joined


def test_simulate_prints_counts_per_type(kafka_bootstrap: str, topics: object) -> None:
    env = _env(
        kafka_bootstrap,
        AUDIT_TOPIC_SESSION=topics.session,  # type: ignore[attr-defined]
        AUDIT_TOPIC_TRANSACTION=topics.transaction,  # type: ignore[attr-defined]
    )
    out = subprocess.run(
        [*CLI, "simulate", "--sessions", "40", "--seed", "3", "--start", "2026-11-02"],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    counts = {m[0]: int(m[1]) for m in re.findall(r"^\s+([a-z_]+)\s+(\d+)$", out.stdout, re.M)}
    total = counts.pop("total")
    assert counts["booking_initiated"] == 40
    assert total == sum(counts.values())
    per_family = Counter()
    for event_type, n in counts.items():
        per_family[EVENT_TYPES[event_type].family] += n
    stored = read_all(kafka_bootstrap, topics.session, per_family["session_event"]) + read_all(  # type: ignore[attr-defined]
        kafka_bootstrap,
        topics.transaction,
        per_family["transaction_event"],  # type: ignore[attr-defined]
    )
    types = Counter(AvroCodec().decode(r.value).record["event_type"] for r in stored)
    assert dict(types) == counts


def test_produce_reports_bad_lines_and_exits_non_zero(
    kafka_bootstrap: str, topics: object, tmp_path: Path
) -> None:
    good = [e.model_dump_json() for e in list(one_of_each().values())[:3]]
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join([good[0], json.dumps({"event_type": "x"}), *good[1:]]) + "\n")
    env = _env(
        kafka_bootstrap,
        AUDIT_TOPIC_SESSION=topics.session,  # type: ignore[attr-defined]
        AUDIT_TOPIC_TRANSACTION=topics.transaction,  # type: ignore[attr-defined]
    )
    out = subprocess.run(
        [*CLI, "produce", "--file", str(path)], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 1
    assert "line 2:" in out.stderr and "event_type" in out.stderr
    assert re.search(r"total\s+3$", out.stdout, re.M)
