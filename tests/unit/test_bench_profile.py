"""The consumer profile's stages in microseconds per stored event."""

from __future__ import annotations

from benchmarks import report
from benchmarks.profile_buckets import BUCKETS, STAGES, bucket_of, stage_costs


def test_every_bucket_belongs_to_a_stage_and_the_issue_s_stages_are_there() -> None:
    assert {stage for *_, stage in BUCKETS} <= set(STAGES)
    wanted = ["poll/fetch", "decode", "check", "seal", "hash", "row build", "Arrow build"]
    assert [s for s in STAGES if s in wanted] == wanted
    assert {"insert", "commit"} <= set(STAGES)


def test_stage_costs_are_microseconds_per_event_in_pipeline_order() -> None:
    totals = {
        "Kafka fetch (KafkaConsumer.poll)": 0.5,
        "Kafka record CRC-32C (pure Python)": 0.25,
        "offset commit": 0.05,
        "something renamed": 0.2,
    }
    costs = stage_costs(totals, events=10_000)
    assert [c["stage"] for c in costs] == list(STAGES)
    by = {c["stage"]: c for c in costs}
    assert by["poll/fetch"]["us_per_event"] == 75.0  # (0.5 + 0.25) s / 10,000 events
    assert by["commit"]["us_per_event"] == 5.0
    assert by["other"]["us_per_event"] == 20.0
    assert by["decode"]["us_per_event"] == 0.0
    assert abs(sum(c["share"] for c in costs) - 1.0) < 1e-9


def test_no_events_costs_no_division_by_zero() -> None:
    assert all(c["us_per_event"] == 0.0 for c in stage_costs({}, events=0))


def test_buckets_match_by_path_suffix_and_function() -> None:
    assert bucket_of("/x/site-packages/kafka/consumer/group.py", "poll") is not None
    assert bucket_of("/x/site-packages/kafka/consumer/group.py", "close") is None
    assert bucket_of(None, None) is None


def test_the_printed_profile_shows_each_stage_per_event() -> None:
    section = {
        "profiler": "pyinstrument",
        "rows": 10_000,
        "events_per_s": 4_000.0,
        "us_per_event": 250.0,
        "stages": stage_costs({"offset commit": 0.05}, 10_000),
    }
    text = "\n".join(" ".join(row) for row in report.profile_rows(section))
    assert "250.0 us per event in all" in text
    assert "profile: commit 5.0 us/event 100.0%" in text
