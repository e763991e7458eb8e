"""What README promises, run for real: the emit example and the CLI against the broker."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
import sys
import uuid
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


# --- every README example, run as written on the demo's data --------------------------


def _demo_defaults() -> dict[str, str]:
    script = (ROOT / "scripts" / "demo.sh").read_text()
    found = dict(re.findall(r"^(SESSIONS|SEED|START)=\$\{\w+:-([^}]+)\}$", script, re.M))
    assert set(found) == {"SESSIONS", "SEED", "START"}, "demo.sh must fix sessions, seed, day"
    assert '--start "$START"' in script
    return found


def _block(name: str, language: str) -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(rf"<!-- example:{name} -->\n```{language}\n(.*?)```", text, re.S)
    assert block, f"README has no example {name}"
    return block.group(1)


@pytest.fixture(scope="module")
def demo(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The demo's day (its sessions, seed and day) in fresh topics and a fresh store."""
    suffix = uuid.uuid4().hex[:8]
    where = tmp_path_factory.mktemp("demo")
    env = _env(
        kafka_bootstrap,
        AUDIT_TOPIC_SESSION=f"demo.session-{suffix}",
        AUDIT_TOPIC_TRANSACTION=f"demo.transaction-{suffix}",
        AUDIT_TOPIC_DEAD_LETTER=f"demo.dlq-{suffix}",
        AUDIT_TOPIC_ERASURES=f"demo.erasures-{suffix}",
        AUDIT_CONSUMER_GROUP=f"demo-{suffix}",
        AUDIT_DATA_DIR=str(where / "var"),
        AUDIT_MASTER_KEY=base64.b64encode(b"d" * 32).decode(),
    )
    day = _demo_defaults()
    for args in (
        ["topics", "create"],  # the demo's `stack up` creates only the default topics
        ["simulate", "--sessions", day["SESSIONS"], "--seed", day["SEED"], "--start", day["START"]],
        ["consume", "--until-idle"],
    ):
        out = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr
    return env


def test_readme_cli_examples_run_on_the_demo_data(demo: dict[str, str]) -> None:
    lines = [line for line in _block("cli", "bash").splitlines() if line.strip()]
    assert len(lines) >= 4
    for line in lines:
        args = shlex.split(line.split("#")[0])
        assert args[0] == "audit-trail"
        out = subprocess.run([*CLI, *args[1:]], env=demo, capture_output=True, text=True)
        assert out.returncode == 0, f"{line}: {out.stderr}"
        assert len(out.stdout.strip().splitlines()) >= 2, f"{line}: printed nothing"


def test_readme_reader_example_runs_on_the_demo_data(demo: dict[str, str]) -> None:
    code = _block("reader", "python")
    assert "session_id" in code.split("with ")[0], "the example defines its ids"
    check = "\nprint(len(events), len(payments), len(everything_about_them))\n"
    out = subprocess.run(
        [sys.executable, "-c", code + check], env=demo, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert all(int(n) > 0 for n in out.stdout.split()), out.stdout


def test_readme_sql_examples_answer_on_the_demo_data(demo: dict[str, str]) -> None:
    queries = [q.strip() for q in _block("sql", "sql").split(";") if q.strip()]
    assert len(queries) == 3
    for query in queries:
        sql = "\n".join(line for line in query.splitlines() if not line.startswith("--"))
        out = subprocess.run([*CLI, "sql", sql], env=demo, capture_output=True, text=True)
        assert out.returncode == 0, f"{sql}: {out.stderr}"
        assert len(out.stdout.strip().splitlines()) >= 2, f"no rows for: {sql}"


def test_readme_says_where_the_broker_address_comes_from() -> None:
    text = (ROOT / "README.md").read_text()
    before_emit = text[: text.index("<!-- example:emit -->")].rsplit("##", 1)[1]
    assert "KAFKA_BOOTSTRAP_SERVERS" in before_emit and "stack up" in before_emit
    contract = (ROOT / "docs" / "contract.md").read_text()
    assert "remains an option" not in contract
