"""Riding out an outage of the store or the dead-letter topic without leaving the group.

A consumer that stops calling ``poll()`` for ``max_poll_interval_ms`` is evicted, and an
evicted member that later finishes its insert stores rows over the partition's new owner
(other batch bounds, so other dedup tokens: doubled offsets, a forked chain). So while an
action keeps failing with ``Retriable``, the assigned partitions are paused and the
consumer goes on polling between attempts: it stays in the group and fetches nothing.

A rebalance seen during an outage (the group changed while we were paused) makes what was
in flight unsafe to store: ``GroupChanged`` is raised, and the caller abandons its batches
and resumes every partition from the store's head.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kafka import KafkaConsumer, TopicPartition
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_when_event_set,
    wait_exponential,
)

from consumers.metrics import IngestMetrics
from schemas import AuditTrailError, Retriable

log = logging.getLogger("consumers.ingest")
T = TypeVar("T")

# Poll at least this often during an outage: far below any sane max_poll_interval_ms.
_POLL_SLICE_S = 0.5


class GroupChanged(AuditTrailError):
    """Partitions were revoked or assigned while ingest waited out an outage: abandon what
    was read and not stored, and resume every partition from the store's head."""


class Backpressure:
    def __init__(
        self,
        consumer: KafkaConsumer,
        metrics: IngestMetrics,
        stop_requested: threading.Event,
        initial_s: float,
        max_s: float,
    ) -> None:
        self.consumer, self.metrics, self.stop = consumer, metrics, stop_requested
        self.initial_s, self.max_s = initial_s, max_s
        # Set by the rebalance listener; read only while an outage is ridden out.
        self.group_changed = False

    def run(self, action: Callable[..., None], *args: Any) -> None:
        """Run ``action`` until it succeeds, polling with paused partitions in between.

        Raises the last ``Retriable`` once a stop is requested, and ``GroupChanged`` when
        a rebalance happens during the outage.
        """
        paused: set[TopicPartition] = set()
        try:
            for attempt in Retrying(
                retry=retry_if_exception_type(Retriable),
                wait=wait_exponential(multiplier=self.initial_s, max=self.max_s),
                stop=stop_when_event_set(self.stop),
                before_sleep=self._outage,
                sleep=lambda seconds: self._wait(seconds, paused),
                reraise=True,
            ):
                with attempt:
                    action(*args)
        finally:
            still = paused & set(self.consumer.assignment())
            if still:
                self.consumer.resume(*still)
        self.metrics.store_up()

    def _outage(self, state: RetryCallState) -> None:
        if state.attempt_number == 1:
            self.group_changed = False  # rebalances before the outage were handled
        error = state.outcome.exception() if state.outcome is not None else None
        log.warning("store or dead-letter topic unavailable, backing off: %s", error)
        self.metrics.store_down()

    def value(self, fn: Callable[[], T]) -> T:
        result: list[T] = []
        self.run(lambda: result.append(fn()))
        return result[-1]

    def _wait(self, seconds: float, paused: set[TopicPartition]) -> None:
        deadline = time.monotonic() + seconds
        while not self.stop.is_set():
            self._pause_all(paused)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            started = time.monotonic()
            # Records can only come from partitions assigned during this poll, which the
            # rebalance check below abandons anyway (they are read again after a seek).
            self.consumer.poll(timeout_ms=int(min(remaining, _POLL_SLICE_S) * 1000))
            if self.group_changed:
                raise GroupChanged("the group rebalanced while the store was unavailable")
            if time.monotonic() - started < 0.01:
                time.sleep(min(remaining, 0.05))  # nothing fetchable: poll returns at once

    def _pause_all(self, paused: set[TopicPartition]) -> None:
        fresh = set(self.consumer.assignment()) - paused
        if fresh:
            self.consumer.pause(*fresh)
            paused |= fresh
