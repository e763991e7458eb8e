"""A member that holds no partitions while nobody in its group holds any: rejoin.

kafka-python 3.0 can finish a group join with nothing assigned (the leader assigned
before the topics' metadata arrived) and normally joins again once the metadata is in.
Under heavy load it was seen not to: the consumer then polled for minutes with no
partitions and stored nothing, in silence. The broker knows better than the client, so
every few seconds an idle member asks it: is the group stable, and does any member hold
a partition of our topics? Stable, and none held, for ``patience_s``: the member leaves
and joins again. A group with more members than partitions is left alone (others hold
the partitions), and so is a group in the middle of a rebalance.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class GroupState:
    """What the broker says of a consumer group."""

    stable: bool
    held: int  # partitions of the topics asked about that some member holds


class GroupView(Protocol):
    def group_state(self, group: str, topics: Sequence[str]) -> GroupState:
        """Raises ``schemas.Retriable`` when the broker does not answer."""
        ...


class EmptyAssignmentWatch:
    def __init__(
        self,
        group: str,
        topics: Sequence[str],
        view: GroupView,
        patience_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.group = group
        self.topics = tuple(topics)
        self.view = view
        self.patience_s = patience_s
        self.clock = clock
        self._empty_since: float | None = None

    def stuck(self, holds_partitions: bool) -> bool:
        """Whether this member should leave and join again now (called every few
        seconds; asks the broker only once the member has held nothing for a while)."""
        now = self.clock()
        if holds_partitions:
            self._empty_since = None
            return False
        if self._empty_since is None:
            self._empty_since = now
            return False
        if now - self._empty_since < self.patience_s:
            return False
        state = self.view.group_state(self.group, self.topics)
        if not state.stable or state.held:
            self._empty_since = now  # someone holds them, or a rebalance is on: wait again
            return False
        self._empty_since = now  # a rejoin gets the same patience before the next one
        return True
