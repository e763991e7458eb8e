"""The empty-assignment watch: when a member that holds nothing should join again."""

from __future__ import annotations

from collections.abc import Sequence

from consumers.membership import EmptyAssignmentWatch, GroupState


class Broker:
    def __init__(self, state: GroupState) -> None:
        self.state = state
        self.asked = 0

    def group_state(self, group: str, topics: Sequence[str]) -> GroupState:
        self.asked += 1
        return self.state


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _watch(state: GroupState, patience_s: float = 30) -> tuple[EmptyAssignmentWatch, Broker, Clock]:
    broker, clock = Broker(state), Clock()
    return EmptyAssignmentWatch("g", ["a", "b"], broker, patience_s, clock), broker, clock


def test_a_stable_group_holding_nothing_is_stuck_after_the_patience() -> None:
    watch, broker, clock = _watch(GroupState(stable=True, held=0))
    assert not watch.stuck(False)
    clock.now += 29
    assert not watch.stuck(False)
    assert broker.asked == 0, "the broker is asked only once the patience ran out"
    clock.now += 2
    assert watch.stuck(False)
    # The rejoin gets the same patience before the next one.
    clock.now += 5
    assert not watch.stuck(False)
    clock.now += 30
    assert watch.stuck(False)


def test_a_member_holding_partitions_is_never_stuck() -> None:
    watch, broker, clock = _watch(GroupState(stable=True, held=0))
    for _ in range(5):
        clock.now += 60
        assert not watch.stuck(True)
    assert broker.asked == 0


def test_holding_partitions_again_restarts_the_patience() -> None:
    watch, _, clock = _watch(GroupState(stable=True, held=0))
    watch.stuck(False)
    clock.now += 25
    assert not watch.stuck(True)
    clock.now += 10
    assert not watch.stuck(False)
    clock.now += 29
    assert not watch.stuck(False)
    clock.now += 2
    assert watch.stuck(False)


def test_more_members_than_partitions_is_left_alone() -> None:
    watch, broker, clock = _watch(GroupState(stable=True, held=8))
    watch.stuck(False)
    for _ in range(4):
        clock.now += 31
        assert not watch.stuck(False)
    assert broker.asked == 4


def test_a_group_in_the_middle_of_a_rebalance_is_left_alone() -> None:
    watch, _, clock = _watch(GroupState(stable=False, held=0))
    watch.stuck(False)
    clock.now += 31
    assert not watch.stuck(False)
