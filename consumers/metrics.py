"""Prometheus metrics of the ingest service; served over HTTP only when asked for."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.rows = Counter(
            "audit_ingest_rows", "Rows stored in the trail", ["topic"], registry=self.registry
        )
        self.batches = Histogram(
            "audit_ingest_batch_seconds",
            "From cutting a batch to its offsets committed",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "audit_ingest_dead_letters",
            "Messages sent to the dead-letter topic",
            ["reason"],
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "audit_ingest_lag",
            "Records in Kafka not yet stored",
            ["topic", "partition"],
            registry=self.registry,
        )
        self.store_available = Gauge(
            "audit_store_available", "1 while inserts succeed, 0 during an outage",
            registry=self.registry,
        )  # fmt: skip
        self.store_available.set(1)
        self.throughput = Gauge(
            "audit_ingest_throughput_rows_per_second", "Rows stored per second, recent",
            registry=self.registry,
        )  # fmt: skip
        self.commit_failures = Counter(
            "audit_ingest_commit_failures",
            "Offset commits Kafka refused (rows were stored; offsets are only a hint)",
            registry=self.registry,
        )
        self.envelope_flags = Counter(
            "audit_ingest_envelope_flags",
            "Events stored flagged: keyed or placed apart from their session",
            ["flag"],
            registry=self.registry,
        )
        self.event_id_repeats = Counter(
            "audit_ingest_event_id_repeats",
            "Messages repeating a stored event_id (kind: duplicate_event, event_id_conflict)",
            ["kind"],
            registry=self.registry,
        )
        self._rows_total = 0
        self._rows_at: tuple[float, int] | None = None

    def serve(self, port: int, address: str = "127.0.0.1") -> None:
        start_http_server(port, addr=address, registry=self.registry)

    def batch_stored(self, topic: str, rows: int, seconds: float) -> None:
        self.rows.labels(topic).inc(rows)
        self.batches.observe(seconds)
        self._rows_total += rows

    def tick(self, now: float) -> None:
        """Refresh rows/s; called every few seconds by the loop."""
        if self._rows_at is not None and now > self._rows_at[0]:
            then, rows = self._rows_at
            self.throughput.set((self._rows_total - rows) / (now - then))
        self._rows_at = (now, self._rows_total)

    def dead_letter(self, reason: str) -> None:
        self.dead_letters.labels(reason).inc()

    def envelope_flagged(self, flags: str) -> None:
        for flag in flags.split(","):
            self.envelope_flags.labels(flag).inc()

    def event_id_repeat(self, kind: str) -> None:
        self.event_id_repeats.labels(kind).inc()

    def lag(self, topic: str, partition: int, records: int) -> None:
        self.consumer_lag.labels(topic, str(partition)).set(max(0, records))

    def commit_failed(self) -> None:
        self.commit_failures.inc()

    def store_down(self) -> None:
        self.store_available.set(0)

    def store_up(self) -> None:
        self.store_available.set(1)
