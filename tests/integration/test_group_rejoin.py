"""A member whose join assigned nothing, in a group where nobody holds a partition,
joins again (consumers.membership): kafka-python 3.0 was seen to stay in that state for
minutes under load, storing nothing.

The state is made on purpose with an assignor that assigns nothing at its first
assignment: kafka-python then has no reason of its own to join again (its metadata did
not change), exactly as in the fault.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

import pytest
from kafka.coordinator.assignors.abstract import ConsumerProtocolAssignment
from kafka.coordinator.assignors.range import RangePartitionAssignor

from audit_trail.stack import TopicLayout
from consumers.membership import GroupState
from consumers.partitions import KafkaFacts
from ledger.embedded import EmbeddedStore
from tests.support.ingest import assert_stored_exactly_once, fill, service

pytestmark = pytest.mark.integration


class EmptyFirstAssignor(RangePartitionAssignor):
    """The range assignor, except that it gives nobody anything until ``released``: only
    the consumer's own rejoin releases it, so a join kafka-python makes by itself (it
    sometimes does, once the topics' metadata arrives) still leaves the member stuck."""

    assignments: ClassVar[int] = 0
    released: ClassVar[bool] = False

    @classmethod
    def assign(cls, cluster: Any, members: Any) -> dict[str, Any]:
        cls.assignments += 1
        if not cls.released:
            return {m.member_id: ConsumerProtocolAssignment(cls.version, [], b"") for m in members}
        return dict(RangePartitionAssignor.assign(cluster, members))


def _run(ingest: Any, timeout_s: float) -> threading.Thread:
    worker = threading.Thread(target=ingest.run, kwargs={"until_idle": True}, daemon=True)
    worker.start()
    worker.join(timeout=timeout_s)
    return worker


def test_a_member_left_with_nothing_joins_again_and_stores_everything(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    EmptyFirstAssignor.assignments, EmptyFirstAssignor.released = 0, False
    sent = fill(kafka_bootstrap, topics, sessions=20, seed=51)
    kafka = {"partition_assignment_strategy": [EmptyFirstAssignor]}
    ingest = service(kafka_bootstrap, topics, store, kafka=kafka, watch_every_s=0.5,
                     assignment_patience_s=3.0)  # fmt: skip
    counted = ingest.metrics.rejoined

    def rejoined() -> None:  # the watch counts, then leaves and joins again
        EmptyFirstAssignor.released = True
        counted()

    ingest.metrics.rejoined = rejoined  # type: ignore[method-assign]
    # until_idle waits for an assignment: without the rejoin this run never ends.
    worker = _run(ingest, timeout_s=180)
    if worker.is_alive():
        ingest.stop()
        worker.join(timeout=60)
        pytest.fail("the member held nothing and never joined again")
    assert EmptyFirstAssignor.assignments >= 2
    assert ingest.metrics.group_rejoins._value.get() >= 1
    assert_stored_exactly_once(store, topics, sent)


def test_the_broker_says_who_holds_the_partitions(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    fill(kafka_bootstrap, topics, sessions=2, seed=52)
    ingest = service(kafka_bootstrap, topics, store)
    wanted = [topics.session, topics.transaction]
    facts = KafkaFacts(ingest.consumer)
    try:
        assert facts.group_state(ingest.config.group_id, wanted) == GroupState(False, 0)
        ingest.consumer.subscribe(wanted)
        deadline = time.monotonic() + 120
        while not ingest.consumer.assignment():
            assert time.monotonic() < deadline, "no assignment"
            ingest.consumer.poll(timeout_ms=200)
        held = len(ingest.consumer.assignment())
        state = facts.group_state(ingest.config.group_id, wanted)
        assert state == GroupState(stable=True, held=held) and held > 0
        assert facts.group_state(ingest.config.group_id, [topics.dead_letter]).held == 0
    finally:
        facts.close()
        ingest.consumer.close()
