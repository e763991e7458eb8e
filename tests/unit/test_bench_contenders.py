"""The benchmark's contenders: the Kafka engine at our batch age, at its documented
throughput settings and with two consumers; our consumer with per-contender settings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from audit_trail.settings import Settings
from audit_trail.stack import TopicLayout
from benchmarks import contenders, ingest_section, kafka_engine_sql, report
from benchmarks.contenders import ENGINES, OURS, Engine, Ours, for_round
from benchmarks.ingest import consumer_env
from benchmarks.plan import Plan, Sizes
from benchmarks.procs import WorkerFailed
from producers.simulation import simulate
from schemas import SESSION_FAMILY, TRANSACTION_FAMILY, AvroCodec, default_registry

LAYOUT = TopicLayout("t.session", "t.transaction", "t.dead-letter")


def _engine(key: str) -> Engine:
    return next(e for e in ENGINES if e.key == key)


def test_the_engine_runs_at_our_batch_age_at_its_throughput_settings_and_with_two_consumers() -> (
    None
):
    age = Settings.model_fields["batch_max_age_ms"].default
    assert _engine("engine_batch_age").settings == {"kafka_flush_interval_ms": age}
    best = _engine("engine_throughput")
    assert {"kafka_max_block_size", "kafka_poll_max_batch_size", "kafka_flush_interval_ms"} <= set(
        best.settings
    )
    assert best.consumers == 1
    two = _engine("engine_2c")
    assert two.consumers == 2
    assert two.settings["kafka_thread_per_consumer"] == 1
    assert {
        k: v for k, v in two.settings.items() if not k.startswith(("kafka_num", "kafka_th"))
    } == (best.settings)


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.key)
def test_each_engine_variant_s_settings_reach_its_kafka_table(engine: Engine) -> None:
    ddl = kafka_engine_sql.kafka_table(
        "kafka_session",
        default_registry().latest(SESSION_FAMILY).source,
        brokers="127.0.0.1:1",
        topic="t",
        group="g",
        settings=engine.settings,
    )
    for key, value in engine.settings.items():
        assert f"{key} = {value}" in ddl


def test_keys_are_unique_and_the_two_consumer_runs_pair_up_in_the_last_round() -> None:
    keys = [c.key for c in (*OURS, *ENGINES)]
    assert len(keys) == len(set(keys))
    every = {c.key for c in for_round(last=False)}
    last = {c.key for c in for_round(last=True)}
    assert {"ours_1p", "engine_batch_age", "engine_throughput"} <= every
    assert {"ours_2p", "engine_2c"} <= last - every


def test_a_contender_s_environment_overrides_the_consumer_s_settings() -> None:
    env = consumer_env("b:1", LAYOUT, Path("/d"), "g", {"AUDIT_BATCH_MAX_ROWS": "7"})
    assert env["AUDIT_BATCH_MAX_ROWS"] == "7"
    assert env["AUDIT_DATA_DIR"] == "/d" and env["AUDIT_CONSUMER_GROUP"] == "g"
    assert "AUDIT_BATCH_MAX_ROWS" not in consumer_env("b:1", LAYOUT, Path("/d"), "g")


def test_a_contender_cannot_move_the_run_s_topics_store_or_group() -> None:
    with pytest.raises(ValueError, match="AUDIT_DATA_DIR"):
        consumer_env("b:1", LAYOUT, Path("/d"), "g", {"AUDIT_DATA_DIR": "/elsewhere"})


@pytest.mark.parametrize(
    ("env", "processes", "message"),
    [
        ({"AUDIT_INGEST_WORKER": "2"}, 1, "AUDIT_INGEST_WORKER is not a consumer setting"),
        ({"audit_batch_max_rows": "2"}, 1, "audit_batch_max_rows is not a consumer setting"),
        ({}, 3, "processes must be 1 or 2"),
    ],
)
def test_a_misspelt_or_impossible_contender_is_refused_by_name(
    env: dict[str, str], processes: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Ours("ours_x", "x", processes=processes, env=env)


def test_a_variant_of_ours_is_one_more_entry_and_gets_its_ratios(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    variant = Ours("ours_workers", "ours + workers", env={"AUDIT_BATCH_MAX_ROWS": "9000"})
    monkeypatch.setattr(contenders, "OURS", (*OURS, variant))
    monkeypatch.setattr(ingest_section, "OURS", (*OURS, variant))
    medians = {"ours_1p": 5.0, "ours_workers": 30.0, "engine_throughput": 10.0, "engine_2c": 12.0}
    ratios = ingest_section.ratios(medians)
    assert ratios["ours_workers"] == {"engine_throughput": 3.0, "engine_2c": 2.5}
    assert ratios["ours_1p"]["engine_throughput"] == 0.5
    assert "engine_batch_age" not in ratios["ours_1p"]  # not measured: no ratio
    assert ingest_section.describe()["ours_workers"]["env"] == {"AUDIT_BATCH_MAX_ROWS": "9000"}


def test_the_engine_s_views_store_the_schema_version_the_fill_wrote() -> None:
    registry = default_registry()
    args = kafka_engine_sql.worker_args(
        bootstrap="127.0.0.1:1",
        topics={SESSION_FAMILY: "s", TRANSACTION_FAMILY: "t"},
        group="g",
        data_dir="/d",
        expected=1,
        timeout_s=1.0,
        settings=contenders.BATCH_AGE,
    )
    for family, view in zip((SESSION_FAMILY, TRANSACTION_FAMILY), args["views"], strict=True):
        version = AvroCodec().writer_of(AvroCodec().encode(family, _any_record(family))).version
        assert version == registry.latest(family).version
        assert f"toUInt16({version}) AS schema_version" in view


def _any_record(family: str) -> dict[str, Any]:
    event = next(e for e in simulate(3, 1, datetime(2026, 11, 2, tzinfo=UTC)) if e.family == family)
    return event.to_avro()


def test_a_contender_that_fails_is_one_line_and_the_others_are_measured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def drain(contender: Ours | Engine, *_args: Any) -> dict[str, Any]:
        if contender.key == "engine_2c":
            raise WorkerFailed("engine-2c stored 4,000 of 10,000 events\nlog tail ...")
        return {
            "events_per_s": 100.0,
            "peak_rss_mb": 1.0,
            "check": {"checksum": 7},
            "data_dir": str(tmp_path / contender.key),
        }

    monkeypatch.setattr(ingest_section, "_drain", drain)
    monkeypatch.setattr(ingest_section.ingest, "ours_baseline", lambda *_a: 5.0)
    plan = Plan("r", 0.01, Sizes.for_scale(0.01, 1), "b:1", tmp_path)
    section = ingest_section.run_section(plan, LAYOUT, Path("python"), tmp_path, print)
    assert section["failed"] == {"engine_2c": "engine-2c stored 4,000 of 10,000 events"}
    assert section["runs"]["engine_2c"] == []
    assert set(section["medians"]) == {c.key for c in (*OURS, *ENGINES)} - {"engine_2c"}
    assert section["same_content"] is True
    assert ("ingest: engine_2c FAILED", section["failed"]["engine_2c"], "", "") in (
        report.ingest_rows(section)
    )
