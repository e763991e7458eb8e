"""Nothing creates topics unless an operator asks (`topics create`, `migrate --topics`):
`produce`, `simulate` and `consume` check theirs and stop with one line naming the missing
topic and the command that creates it, leaving the cluster as it was."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from audit_trail.stack import TopicLayout
from tests.support.ingest import cli_env

pytestmark = pytest.mark.integration
CLI = [sys.executable, "-m", "audit_trail.cli"]


def _layout() -> TopicLayout:
    suffix = uuid.uuid4().hex[:8]
    return TopicLayout(
        f"nc.session-{suffix}", f"nc.transaction-{suffix}", f"nc.dlq-{suffix}",
        f"nc.erasures-{suffix}",
    )  # fmt: skip


def _env(bootstrap: str, layout: TopicLayout, tmp_path: Path, **extra: str) -> dict[str, str]:
    return cli_env(bootstrap, layout) | {
        "AUDIT_CONSUMER_GROUP": f"nc-{uuid.uuid4().hex[:8]}",
        "AUDIT_DATA_DIR": str(tmp_path / "store"),
        **extra,
    }


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=180,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _existing(bootstrap: str, layout: TopicLayout) -> set[str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return set(admin.list_topics()) & set(layout.names())
    finally:
        admin.close()


def _one_line(out: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    assert out.returncode == code, (out.returncode, out.stdout, out.stderr)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert "Traceback" not in out.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.mark.parametrize(
    ("args", "needs"),
    [
        (["produce", "--file", "EVENTS"], "session"),
        (["simulate", "--sessions", "2"], "session"),
        (["consume", "--until-idle"], "session"),
    ],
)
def test_a_command_without_its_topics_stops_and_creates_none(
    kafka_bootstrap: str, tmp_path: Path, args: list[str], needs: str
) -> None:
    layout = _layout()
    events = tmp_path / "events.jsonl"
    events.write_text("", encoding="utf-8")
    args = [str(events) if a == "EVENTS" else a for a in args]
    out = _run(_env(kafka_bootstrap, layout, tmp_path), *args)
    topic = getattr(layout, needs)
    _one_line(out, 1, f"topic {topic}", "does not exist", "audit-trail topics create")
    assert _existing(kafka_bootstrap, layout) == set()  # nothing was created


def test_topics_create_makes_them_as_set_and_check_then_passes(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    layout = _layout()
    env = _env(kafka_bootstrap, layout, tmp_path, AUDIT_TOPIC_PARTITIONS="2",
               AUDIT_TOPIC_RETENTION_DAYS="5")  # fmt: skip
    _one_line(_run(env, "topics", "check"), 1, f"topic {layout.session}", "topics create")
    assert _existing(kafka_bootstrap, layout) == set()

    created = _run(env, "topics", "create")
    assert created.returncode == 0, created.stderr
    assert "ok: " in created.stdout and "kept 5 days" in created.stdout
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        described = {t["name"]: t for t in admin.describe_topics(list(layout.names()))}
        configs = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, layout.session)]
        ).get("topic", {})
    finally:
        admin.close()
    assert len(described[layout.session]["partitions"]) == 2
    assert len(described[layout.erasures]["partitions"]) == 1
    assert configs[layout.session]["retention.ms"]["value"] == str(5 * 86_400_000)

    checked = _run(env, "topics", "check")
    assert checked.returncode == 0, checked.stderr
    line = '{"event_type": "nope"}\n'
    (tmp_path / "one.jsonl").write_text(line, encoding="utf-8")
    sent = _run(env, "produce", "--file", str(tmp_path / "one.jsonl"))
    assert "does not exist" not in sent.stderr and "sent:" in sent.stdout, sent.stderr


def test_migrate_topics_creates_them_too(kafka_bootstrap: str, tmp_path: Path) -> None:
    layout = _layout()
    out = _run(_env(kafka_bootstrap, layout, tmp_path), "migrate", "--topics")
    assert out.returncode == 0, out.stderr
    assert _existing(kafka_bootstrap, layout) == set(layout.names())


@pytest.mark.parametrize(
    ("extra", "code", "words"),
    [
        # More replicas than the one-node broker has: the broker's refusal, in one line.
        ({"AUDIT_TOPIC_REPLICATION_FACTOR": "3"}, 1, ["refused to create topics"]),
        ({"AUDIT_TOPIC_REPLICATION_FACTOR": "three"}, 2, ["AUDIT_TOPIC_REPLICATION_FACTOR"]),
        ({"AUDIT_TOPIC_REPLICATION_FACTOR": "0"}, 2, ["AUDIT_TOPIC_REPLICATION_FACTOR"]),
        ({"AUDIT_TOPIC_PARTITIONS": "-1"}, 2, ["AUDIT_TOPIC_PARTITIONS"]),
        # Not Kafka topic names: refused as settings, before any broker is asked.
        ({"AUDIT_TOPIC_SESSION": ""}, 2, ["AUDIT_TOPIC_SESSION"]),
        ({"AUDIT_TOPIC_ERASURES": "bad topic!"}, 2, ["AUDIT_TOPIC_ERASURES"]),
        ({"AUDIT_TOPIC_DEAD_LETTER": "x" * 250}, 2, ["AUDIT_TOPIC_DEAD_LETTER"]),
    ],
)
def test_topics_create_with_bad_settings_is_one_line(
    kafka_bootstrap: str, tmp_path: Path, extra: dict[str, str], code: int, words: list[str]
) -> None:
    layout = _layout()
    out = _run(_env(kafka_bootstrap, layout, tmp_path, **extra), "topics", "create")
    _one_line(out, code, *words)
    assert _existing(kafka_bootstrap, layout) == set()
