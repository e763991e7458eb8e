"""A store outage pauses ingest and keeps the group: the consumer goes on polling with its
partitions paused, so an outage many times longer than ``max_poll_interval_ms`` evicts
nobody, and a rebalance that happens during one abandons what was in flight rather than
storing it over the partition's new owner."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from kafka import KafkaAdminClient, TopicPartition

from audit_trail.stack import TopicLayout
from consumers import IngestService
from ledger import EmbeddedStore
from tests.support.ingest import assert_stored_exactly_once, fill, service
from tests.support.outage import OutageStore

pytestmark = pytest.mark.integration

# Short, so an outage of a few intervals is quick to hold; not shorter, because on two
# busy cores the start (join, resume, a first batch decoded) alone once took over 4 s
# between polls, and the group rebalanced before the outage began.
MAX_POLL_INTERVAL_MS = 8000
CLIENT = {"max_poll_interval_ms": MAX_POLL_INTERVAL_MS, "session_timeout_ms": 10000,
          "heartbeat_interval_ms": 1000}  # fmt: skip


def _members(bootstrap: str, group: str) -> list[str]:
    """The group's members as the broker sees them (a member that stopped polling for
    max_poll_interval_ms has left)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        described = admin.describe_groups([group])[group]
    finally:
        admin.close()
    return sorted(str(m["member_id"]) for m in described["members"])


def _count_revocations(ingest: IngestService) -> list[list[TopicPartition]]:
    """Each non-empty revocation (a rebalance, or the close at the end)."""
    revoked: list[list[TopicPartition]] = []
    real: Callable[[list[TopicPartition]], None] = ingest._on_revoked

    def counting(tps: list[TopicPartition]) -> None:
        if tps:
            revoked.append(list(tps))
        real(tps)

    ingest._on_revoked = counting  # type: ignore[method-assign]
    return revoked


def _count_assignments(ingest: IngestService) -> list[list[TopicPartition]]:
    """Each assignment that gave partitions: one per (re)join of the group (a first join
    before the topics' metadata arrived gives none, and is followed by another)."""
    assigned: list[list[TopicPartition]] = []
    real: Callable[[list[TopicPartition]], None] = ingest._on_assigned

    def counting(tps: list[TopicPartition]) -> None:
        if tps:
            assigned.append(list(tps))
        real(tps)

    ingest._on_assigned = counting  # type: ignore[method-assign]
    return assigned


def _wait(condition: Callable[[], bool], what: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


CRASHES: list[BaseException] = []


@pytest.fixture(autouse=True)
def _no_crashes_yet() -> None:
    CRASHES.clear()


def _start(ingest: IngestService) -> threading.Thread:
    """``ingest.run`` in a thread; whatever it raises lands in ``CRASHES``."""

    def run() -> None:
        try:
            ingest.run(until_idle=True)
        except BaseException as exc:
            CRASHES.append(exc)
            raise

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    return worker


def test_an_outage_four_times_the_poll_interval_evicts_nobody(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    flaky = OutageStore(store)
    sent = fill(kafka_bootstrap, topics, sessions=40, seed=41)
    # One flush for all (the default batch): many small inserts after one poll would be
    # a slow store, not an outage, and outlast this test's short poll interval.
    ingest = service(kafka_bootstrap, topics, flaky, kafka=CLIENT, retry_max_s=0.5)
    joins = _count_assignments(ingest)
    group = ingest.config.group_id
    flaky.down.set()
    try:
        worker = _start(ingest)
        _wait(lambda: flaky.refused >= 3, "the consumer to meet the outage")
        member = _members(kafka_bootstrap, group)
        assert len(member) == 1
        time.sleep(4 * MAX_POLL_INTERVAL_MS / 1000)
        assert worker.is_alive()
        # The broker's view, not a timing: the same member, still in the group.
        assert _members(kafka_bootstrap, group) == member, "evicted during the outage"
        assert len(joins) == 1, "the consumer rejoined its group during the outage"
        assert ingest.consumer.paused(), "partitions not paused during the outage"
    finally:
        flaky.down.clear()
    worker.join(timeout=120)
    assert not worker.is_alive() and not CRASHES, CRASHES
    assert ingest.consumer.paused() == set()
    assert_stored_exactly_once(store, topics, sent)


@pytest.mark.parametrize("workers", [0, 2])
def test_a_rebalance_during_an_outage_abandons_what_was_in_flight(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore, workers: int
) -> None:
    # The first member holds a batch it cannot store; a second member joins and takes
    # partitions from it. Neither may store rows over the other's, before or after. With
    # workers, chunks still being decoded when the group changes are dropped too.
    flaky = OutageStore(store)
    sent = fill(kafka_bootstrap, topics, sessions=60, seed=42)
    first = service(kafka_bootstrap, topics, flaky, kafka=CLIENT, batch_max_rows=100000,
                    batch_max_age_s=0.2, retry_max_s=0.5, workers=workers)  # fmt: skip
    revoked = _count_revocations(first)
    flaky.down.set()
    try:
        one = _start(first)
        _wait(lambda: flaky.refused >= 2, "the first member to meet the outage")
        # Other batch bounds, so the second member's inserts carry other dedup tokens.
        second = service(kafka_bootstrap, topics, flaky, first.config.group_id, kafka=CLIENT,
                         batch_max_rows=37, batch_max_age_s=0.2, retry_max_s=0.5,
                         workers=workers, chunk_rows=50)  # fmt: skip
        two = _start(second)
        _wait(lambda: bool(revoked), "the first member to give partitions to the second")
        refused = flaky.refused
        _wait(lambda: flaky.refused > refused + 2, "both members to meet the outage")
    finally:
        flaky.down.clear()
    one.join(timeout=120)
    two.join(timeout=120)
    assert not one.is_alive() and not two.is_alive()
    assert not CRASHES, CRASHES
    assert_stored_exactly_once(store, topics, sent)
