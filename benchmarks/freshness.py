"""Freshness: a producer at a steady rate while our consumer runs; send -> queryable."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from audit_trail.stack import TopicLayout
from benchmarks.ingest import consumer_env
from benchmarks.plan import PARTITIONS, Sizes
from benchmarks.procs import Worker
from benchmarks.stats import percentiles

POLL_MS = 20


def measure(
    bootstrap: str, layouts: dict[int, TopicLayout], sizes: Sizes, work_dir: Path, log_dir: Path
) -> dict[str, Any]:
    """One measurement per rate (each on its own topics, consumer group and store)."""
    return {
        str(rate): measure_rate(bootstrap, layout, rate, sizes, work_dir / f"fresh-{rate}", log_dir)
        for rate, layout in layouts.items()
    }


def measure_rate(
    bootstrap: str, layout: TopicLayout, rate: int, sizes: Sizes, data_dir: Path, log_dir: Path
) -> dict[str, Any]:
    env = consumer_env(bootstrap, layout, data_dir, f"bench-fresh-{uuid.uuid4().hex[:8]}")
    consumer = Worker(
        f"freshness-consumer-{rate}",
        "freshness_consumer",
        {"partitions": 2 * PARTITIONS, "poll_ms": POLL_MS, "drain_timeout_s": 60},
        log_dir,
        env=env,
    )
    consumer.wait_for("ready", timeout_s=180)

    def relay(message: dict[str, Any]) -> None:
        if message["kind"] == "sample":
            consumer.send(json.dumps({k: message[k] for k in ("id", "sid", "sent")}))

    producer = Worker(
        f"freshness-producer-{rate}",
        "paced_producer",
        {
            "bootstrap": bootstrap,
            "topics": asdict(layout),
            "rate": rate,
            "seconds": sizes.freshness_seconds,
            "sample_every": sizes.freshness_sample_every,
            "seed": 7,
        },
        log_dir,
        on_message=relay,
    )
    sent = producer.wait(timeout_s=sizes.freshness_seconds * 4 + 300).last("result")
    consumer.send("end")
    done = consumer.wait(timeout_s=300)
    result = done.last("result")
    latencies = result.pop("latencies_s")
    return {
        "target_rate": rate,
        "producer": sent,
        "samples": len(latencies),
        **{k: v for k, v in result.items() if k != "samples"},
        "send_to_queryable_s": percentiles(latencies),
        "consumer_peak_rss_mb": done.peak_rss_mb,
        "poll_interval_ms": POLL_MS,
    }
