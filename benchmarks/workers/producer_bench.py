"""Worker: producer throughput, alternating per run between
- ``audit``: service code's path: build the typed event from plain values (pydantic
  validation), then ``AuditProducer.send`` (Avro encode + send), and a final flush;
- ``audit_prebuilt``: ``AuditProducer.send`` of already-built events (encode + send);
- ``raw``: kafka-python ``KafkaProducer.send`` of the same pre-encoded bytes, configured
  like AuditProducer (acks=all, idempotent, linger 5 ms), and a final flush.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

from audit_trail.stack import TopicLayout
from benchmarks.fill import DAY, events, raw_producer
from benchmarks.procs import emit, worker_args
from producers import AuditProducer
from producers.events import Event
from schemas import SESSION_FAMILY, TRANSACTION_FAMILY


def main() -> None:
    args = worker_args()
    layout = TopicLayout(**args["topics"])
    bootstrap = args["bootstrap"]
    topics = {SESSION_FAMILY: layout.session, TRANSACTION_FAMILY: layout.transaction}
    built: list[Event] = list(events(int(args["events"]), 11, DAY))
    plain = [(type(e), e.model_dump()) for e in built]
    with AuditProducer(bootstrap, topics) as encoder:
        encoded = [encoder.encode(e) for e in built]
    # The prepared inputs are the benchmark's, not the producer's: out of the collector's
    # reach, so building models (which triggers full passes) does not pay for walking
    # them. Same for every variant.
    gc.collect()
    gc.freeze()

    def audit() -> None:
        with AuditProducer(bootstrap, topics) as producer:
            for cls, values in plain:
                producer.send(cls.model_validate(values))

    def audit_prebuilt() -> None:
        with AuditProducer(bootstrap, topics) as producer:
            for event in built:
                producer.send(event)

    def raw() -> None:
        producer = raw_producer(bootstrap)
        for topic, key, value in encoded:
            producer.send(topic, value, key)
        producer.flush()
        producer.close()

    variants: dict[str, Callable[[], None]] = {
        "audit": audit,
        "audit_prebuilt": audit_prebuilt,
        "raw": raw,
    }
    results: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(int(args["runs"])):
        for name, variant in variants.items():
            started = time.perf_counter()
            variant()
            results[name].append(len(built) / (time.perf_counter() - started))
    out: dict[str, Any] = {"events": len(built), "events_per_s": results}
    emit("result", **out)


if __name__ == "__main__":
    main()
