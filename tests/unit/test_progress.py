"""The consumer's progress line and lag: logged at INFO, lag unknown while the broker is
away (said once, and once when it is back), never an error."""

from __future__ import annotations

import logging

import pytest
from kafka import TopicPartition

from consumers.metrics import IngestMetrics
from consumers.partitions import PartitionFacts
from consumers.progress import Progress


def test_progress_is_logged_with_rows_and_lag(caplog: pytest.LogCaptureFixture) -> None:
    metrics = IngestMetrics()
    progress = Progress(metrics, every_s=0.0)
    a, b = TopicPartition("t", 0), TopicPartition("t", 1)
    facts = {a: PartitionFacts(0, 100, "id"), b: PartitionFacts(10, 50, "id")}
    lag = progress.lag(facts, {a: 60})  # b: nothing stored yet
    assert lag == 40 + 40
    with caplog.at_level(logging.INFO, logger="consumers.ingest"):
        progress.maybe_log(rows=60, dead_letters=2, lag=lag, partitions=2)
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert "stored 60 rows" in record.getMessage() and "lag 80 records" in record.getMessage()
    assert metrics.consumer_lag.labels("t", "1")._value.get() == 40


def test_a_quiet_broker_is_said_once_and_its_return_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    progress = Progress(IngestMetrics(), every_s=0.0)
    with caplog.at_level(logging.INFO, logger="consumers.ingest"):
        for _ in range(3):
            progress.broker_quiet(TimeoutError("no answer"))
        progress.maybe_log(rows=0, dead_letters=0, lag=None, partitions=4)
        progress.broker_back()
        progress.broker_back()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("broker not answering" in m for m in messages) == 1
    assert sum("answers again" in m for m in messages) == 1
    assert any("lag unknown" in m for m in messages)
