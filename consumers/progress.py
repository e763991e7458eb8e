"""What the operator sees of a running consumer: lag in the metrics, and a log line now
and then (rows stored, lag), so progress can be told from a stall under the CLI's
default logging. Measuring must never stop ingest: a broker that does not answer only
leaves the lag unknown, said once per outage.
"""

from __future__ import annotations

import logging
import time

from kafka import TopicPartition

from consumers.metrics import IngestMetrics
from consumers.partitions import PartitionFacts

log = logging.getLogger("consumers.ingest")


class Progress:
    def __init__(self, metrics: IngestMetrics, every_s: float = 30.0) -> None:
        self.metrics = metrics
        self.every_s = every_s
        self._logged_at = time.monotonic()
        self._rows_logged = 0
        self._quiet_since: float | None = None

    def lag(
        self, facts: dict[TopicPartition, PartitionFacts], next_kafka: dict[TopicPartition, int]
    ) -> int:
        """Set each partition's lag (records in Kafka not yet stored); their sum."""
        total = 0
        for tp, fact in facts.items():
            behind = max(0, fact.end - max(next_kafka.get(tp, fact.earliest), fact.earliest))
            self.metrics.lag(tp.topic, tp.partition, behind)
            total += behind
        return total

    def broker_quiet(self, error: Exception) -> None:
        if self._quiet_since is None:
            self._quiet_since = time.monotonic()
            log.warning("broker not answering, lag unknown; ingest waits for it: %s", error)

    def broker_back(self) -> None:
        if self._quiet_since is not None:
            away = time.monotonic() - self._quiet_since
            self._quiet_since = None
            log.warning("broker answers again after %.0f s", away)

    def maybe_log(self, rows: int, dead_letters: int, lag: int | None, partitions: int) -> None:
        now = time.monotonic()
        if now - self._logged_at < self.every_s:
            return
        recent = rows - self._rows_logged
        log.info(
            "stored %d rows (%d in the last %.0f s, %d dead letters in all); lag %s over %d "
            "partitions",
            rows,
            recent,
            now - self._logged_at,
            dead_letters,
            "unknown" if lag is None else f"{lag} records",
            partitions,
        )
        self._logged_at, self._rows_logged = now, rows
