"""Prometheus metrics of the ingest service; served over HTTP only when asked for.

Named by Prometheus conventions: counters end in ``_total``, a unit ends a name
(``_seconds``, ``_records``), and no gauge holds a rate: rows/s is
``rate(audit_ingest_rows_total[1m])``, computed by Prometheus from the counter.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    start_http_server,
)

# The text format would show each counter's and histogram's creation time as an extra gauge
# series (`*_created`): unitless noise beside every metric. Process-wide, by the library's design.
disable_created_metrics()  # type: ignore[no-untyped-call]


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.rows = Counter(
            "audit_ingest_rows_total", "Rows stored in the trail", ["topic"], registry=self.registry
        )
        self.batches = Histogram(
            "audit_ingest_batch_seconds",
            "From cutting a batch to its offsets committed",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "audit_ingest_dead_letters_total",
            "Messages sent to the dead-letter topic",
            ["reason"],
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "audit_ingest_lag_records",
            "Records in Kafka not yet stored",
            ["topic", "partition"],
            registry=self.registry,
        )
        self.store_available = Gauge(
            "audit_store_available", "1 while inserts succeed, 0 during an outage",
            registry=self.registry,
        )  # fmt: skip
        self.store_available.set(1)
        self.commit_failures = Counter(
            "audit_ingest_commit_failures_total",
            "Offset commits Kafka refused (rows were stored; offsets are only a hint)",
            registry=self.registry,
        )
        self.envelope_flags = Counter(
            "audit_ingest_envelope_flags_total",
            "Events stored flagged: keyed or placed apart from their session",
            ["flag"],
            registry=self.registry,
        )
        self.event_id_repeats = Counter(
            "audit_ingest_event_id_repeats_total",
            "Messages repeating a stored event_id (kind: duplicate_event, event_id_conflict)",
            ["kind"],
            registry=self.registry,
        )
        self.group_rejoins = Counter(
            "audit_ingest_group_rejoins_total",
            "Times this member left and joined its group again, having held no partition "
            "while no member held any (consumers.membership)",
            registry=self.registry,
        )

    def serve(self, port: int, address: str = "127.0.0.1") -> None:
        start_http_server(port, addr=address, registry=self.registry)

    def batch_stored(self, topic: str, rows: int, seconds: float) -> None:
        self.rows.labels(topic).inc(rows)
        self.batches.observe(seconds)

    def dead_letter(self, reason: str) -> None:
        self.dead_letters.labels(reason).inc()

    def envelope_flagged(self, flags: str) -> None:
        for flag in flags.split(","):
            self.envelope_flags.labels(flag).inc()

    def event_id_repeat(self, kind: str) -> None:
        self.event_id_repeats.labels(kind).inc()

    def lag(self, topic: str, partition: int, records: int) -> None:
        self.consumer_lag.labels(topic, str(partition)).set(max(0, records))

    def rejoined(self) -> None:
        self.group_rejoins.inc()

    def commit_failed(self) -> None:
        self.commit_failures.inc()

    def store_down(self) -> None:
        self.store_available.set(0)

    def store_up(self) -> None:
        self.store_available.set(1)
