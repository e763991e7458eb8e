"""Ingest contenders, one after another on the same filled topics, each into a fresh store:
our consumer (one process; two processes sharing the group, each with its own store) and
ClickHouse's Kafka table engine. Throughput = events / (last stored batch - start)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audit_trail.stack import TopicLayout
from benchmarks import kafka_engine_sql, topics
from benchmarks.procs import Finished, Worker, WorkerFailed
from benchmarks.stats import percentiles
from benchmarks.trail_check import combine
from schemas import SESSION_FAMILY, TRANSACTION_FAMILY


def consumer_env(
    bootstrap: str,
    layout: TopicLayout,
    data_dir: Path,
    group: str,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment ``audit-trail consume`` reads (README "Configuration"), plus a
    contender's ``overrides`` of other settings. The run's own topics, store and group
    cannot be overridden: a contender must drain the same backlog into its own store."""
    fixed = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "AUDIT_DATA_DIR": str(data_dir),
        "AUDIT_TOPIC_SESSION": layout.session,
        "AUDIT_TOPIC_TRANSACTION": layout.transaction,
        "AUDIT_TOPIC_DEAD_LETTER": layout.dead_letter,
        "AUDIT_CONSUMER_GROUP": group,
    }
    clash = sorted(set(overrides or {}) & set(fixed))
    if clash:
        raise ValueError(f"a contender cannot override {', '.join(clash)}: the run sets them")
    # One process unless a contender asks for decoding workers (section "workers").
    return {"AUDIT_INGEST_WORKERS": "0", **fixed, **(overrides or {})}


def _summary(events: int, started: float, finished: float, **extra: Any) -> dict[str, Any]:
    seconds = finished - started
    return {"events": events, "seconds": seconds, "events_per_s": events / seconds, **extra}


def _finished(events: int, done: Finished, **extra: Any) -> dict[str, Any]:
    """The summary of a worker that drained the backlog: rate from its result, its RSS."""
    result = done.last("result")
    return _summary(
        events,
        result["started"],
        result["last_insert"],
        peak_rss_mb=done.peak_rss_mb,
        rss_mb_during=percentiles(done.rss_samples_mb),
        check=result["check"],
        **extra,
    )


def ours_one(
    bootstrap: str,
    layout: TopicLayout,
    events: int,
    data_dir: Path,
    log_dir: Path,
    *,
    name: str = "ours-1p",
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``audit-trail consume --until-idle`` in one process, into a fresh store; ``env``
    overrides the consumer's settings (a contender's variant, e.g. its worker count)."""
    group = f"bench-ours-{uuid.uuid4().hex[:8]}"
    done = Worker(
        name,
        "ours_ingest",
        {"until_idle": True},
        log_dir,
        env=consumer_env(bootstrap, layout, data_dir, group, env),
    ).wait(timeout_s=max(600.0, events / 200))
    result = done.last("result")
    if result["check"]["rows"] != events:
        raise WorkerFailed(f"{name} stored {result['check']['rows']} rows, expected {events}")
    return _finished(
        events,
        done,
        batches=result["batches"],
        data_dir=str(data_dir),
        cpu_s=result.get("cpu_s"),
        cpu_children_s=result.get("cpu_children_s"),
    )


def ours_baseline(bootstrap: str, layout: TopicLayout, data_dir: Path, log_dir: Path) -> float:
    """Peak RSS (MB) of a consumer process that opens its store and Kafka clients and stops
    before reading anything: the floor that the embedded engine and imports set."""
    done = Worker(
        "ours-baseline",
        "ours_ingest",
        {"baseline": True},
        log_dir,
        env=consumer_env(bootstrap, layout, data_dir, f"bench-base-{uuid.uuid4().hex[:8]}"),
    ).wait(timeout_s=300)
    return done.peak_rss_mb


def ours_two(
    bootstrap: str,
    layout: TopicLayout,
    events: int,
    work_dir: Path,
    log_dir: Path,
    *,
    name: str = "ours-2p",
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Two consumer processes in one group, each with its own store (chDB: one process per
    directory), started together. Done when the group has committed every partition's end
    (each process commits only what its store holds); then both get SIGTERM. A rebalance
    while the second one joins can make a partition be read by both: ``rows_read_twice``."""
    group = f"bench-ours2-{uuid.uuid4().hex[:8]}"
    ends = topics.end_offsets(bootstrap, [layout.session, layout.transaction])
    workers = [
        Worker(
            f"{name}-{i}",
            "ours_ingest",
            {"wait_for_go": True},
            log_dir,
            env=consumer_env(bootstrap, layout, work_dir / f"store-{i}", group, env),
        )
        for i in (0, 1)
    ]
    _wait_ready(workers)
    for worker in workers:
        worker.send("go")
    finished_at = topics.wait_group_done(bootstrap, group, ends, max(600.0, events / 200))
    for worker in workers:
        worker.terminate()
    finished: list[Finished] = [w.wait(timeout_s=120) for w in workers]
    if finished_at is None:
        raise WorkerFailed(f"two consumers did not store all {events} events in time")
    results = [f.last("result") for f in finished]
    started = min(f.last("started")["at"] for f in finished)
    check = combine([r["check"] for r in results])
    return _summary(
        events,
        started,
        finished_at,
        peak_rss_mb=max(f.peak_rss_mb for f in finished),
        peak_rss_mb_each=[f.peak_rss_mb for f in finished],
        rows_each=[r["check"]["rows"] for r in results],
        rows_read_twice=check["rows"] - events,
        check=check,
    )


def _wait_ready(workers: list[Worker], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not all(any(m["kind"] == "ready" for m in w.messages) for w in workers):
        if time.monotonic() > deadline:
            raise WorkerFailed("consumers did not get ready")
        time.sleep(0.05)


def kafka_engine(
    bootstrap: str,
    confluent: TopicLayout,
    events: int,
    data_dir: Path,
    log_dir: Path,
    python: Path,
    settings: Mapping[str, int | str],
    *,
    name: str = "kafka-engine",
) -> dict[str, Any]:
    """ClickHouse's Kafka engine + materialized views (chDB, in the contender's venv)."""
    timeout = max(600.0, events / 200)
    args = kafka_engine_sql.worker_args(
        bootstrap=bootstrap,
        topics={SESSION_FAMILY: confluent.session, TRANSACTION_FAMILY: confluent.transaction},
        group=f"bench-kafka-engine-{uuid.uuid4().hex[:8]}",
        data_dir=str(data_dir),
        expected=events,
        timeout_s=timeout,
        settings=settings,
    )
    repo = Path(__file__).resolve().parent.parent
    done = Worker(
        name, "kafka_engine", args, log_dir, python=python, env={"PYTHONPATH": str(repo)}
    ).wait(timeout_s=timeout + 120)
    result = done.last("result")
    if result["rows"] < events:
        raise WorkerFailed(f"{name} stored {result['rows']} of {events} events")
    return _finished(
        events,
        done,
        engine=done.last("ready")["engine"],
        settings=dict(settings),
        consumers=result.get("consumers"),
        # at-least-once: a rebalance stores messages twice (the checksum then differs)
        rows_read_twice=result["check"]["rows"] - result["check"]["distinct_events"],
    )
