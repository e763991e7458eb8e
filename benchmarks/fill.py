"""Fill the ingest topics once: N simulated events, the same for every contender.

Each event is encoded once (single-object, as AuditProducer encodes it) and sent, with
the same key, to our topic and, re-framed for the Confluent wire format, to the Kafka
engine's copy of it: the same Avro datum, a different 5- instead of 10-byte header.
Generation runs in two worker processes (one simulated day each) to halve the wait.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from audit_trail.stack import TopicLayout
from benchmarks.confluent import confluent_frame, schema_ids
from benchmarks.procs import Worker
from producers.events import Event
from producers.simulation import simulate
from schemas import SESSION_FAMILY, AvroCodec

DAY = datetime(2026, 11, 2, tzinfo=UTC)
EVENTS_PER_SESSION_FLOOR = 20  # the simulator averages ~23.6; ask for enough sessions


def events(count: int, seed: int, day: datetime) -> itertools.islice[Event]:
    """Exactly ``count`` simulated events (the first ones of the day, in time order)."""
    return itertools.islice(simulate(count // EVENTS_PER_SESSION_FLOOR + 10, seed, day), count)


def raw_producer(bootstrap: str, **overrides: Any) -> KafkaProducer:
    """A kafka-python producer configured like AuditProducer's (acks=all, idempotent)."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "enable_idempotence": True,
        "retries": 2**31 - 1,
        "delivery_timeout_ms": 120_000,
        "max_in_flight_requests_per_connection": 5,
        "linger_ms": 5,
        "max_block_ms": 30_000,
    }
    config.update(overrides)
    return KafkaProducer(**config)


def fill_part(
    bootstrap: str,
    ours: TopicLayout,
    confluent: TopicLayout | None,
    count: int,
    seed: int,
    day: int,
) -> dict[str, Any]:
    """Send ``count`` events of simulated day ``day`` (run by ``workers.fill_part``)."""
    codec, ids = AvroCodec(), schema_ids()
    producer = raw_producer(bootstrap, linger_ms=20, batch_size=256 * 1024)
    sent = {"session_event": 0, "transaction_event": 0}
    size = 0
    started = time.perf_counter()
    for event in events(count, seed, DAY + timedelta(days=day)):
        value = codec.encode(event.family, event.to_avro())
        session = event.family == SESSION_FAMILY
        producer.send(ours.session if session else ours.transaction, value, event.key)
        if confluent is not None:
            topic = confluent.session if session else confluent.transaction
            producer.send(topic, confluent_frame(value, ids), event.key)
        sent[event.family] += 1
        size += len(value)
    producer.flush()
    producer.close()
    return {"sent": sent, "bytes": size, "seconds": time.perf_counter() - started}


def fill(
    bootstrap: str,
    ours: TopicLayout,
    confluent: TopicLayout | None,
    count: int,
    log_dir: Path,
    seed: int = 1,
    processes: int = 2,
) -> dict[str, Any]:
    """Send ``count`` events to ``ours`` (and their Confluent copies); return what was sent."""
    shares = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
    started = time.perf_counter()
    workers = [
        Worker(
            f"fill-{ours.session}-{day}",
            "fill_part",
            {
                "bootstrap": bootstrap,
                "ours": asdict(ours),
                "confluent": asdict(confluent) if confluent is not None else None,
                "count": share,
                "seed": seed,
                "day": day,
            },
            log_dir,
        )
        for day, share in enumerate(shares)
        if share
    ]
    results = [w.wait(timeout_s=3600).last("result") for w in workers]
    total = {"session_event": 0, "transaction_event": 0}
    for result in results:
        for family, n in result["sent"].items():
            total[family] += n
    return {
        "events": sum(total.values()),
        "by_family": total,
        "avro_bytes": sum(r["bytes"] for r in results),
        "seconds": time.perf_counter() - started,
    }
