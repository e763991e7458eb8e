"""Events the consumer stored flagged (``envelope_flags``), as ``verify`` shows them.

A flag is not an integrity problem: the row sits in its partition's chain and its hash
covers the flag, so a flag cannot be removed or added without breaking the chain. It
says the event was keyed or placed apart from its session (docs/contract.md, "Envelope
contradictions"): its order among the session's other events rests on occurred_at alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ledger.store_parts import TrailQueries

_FLAGGED = "kafka_topic IN {topics:Array(String)} AND envelope_flags IS NOT NULL"
COUNTS_SQL = f"""SELECT envelope_flags, count() FROM trail WHERE {_FLAGGED}
GROUP BY envelope_flags ORDER BY envelope_flags"""
FIRST_SQL = f"""SELECT kafka_topic, kafka_partition, kafka_offset, toString(event_id),
    toString(session_id), envelope_flags
FROM trail WHERE {_FLAGGED}
ORDER BY kafka_topic, kafka_partition, kafka_offset LIMIT {{limit:UInt64}}"""


@dataclass(frozen=True)
class FlaggedEvent:
    topic: str
    partition: int
    offset: int
    event_id: str
    session_id: str
    flags: str

    def __str__(self) -> str:
        return (
            f"{self.topic}[{self.partition}] offset {self.offset} (event {self.event_id}, "
            f"session {self.session_id}): {self.flags}"
        )


@dataclass
class FlagSummary:
    """How many stored events carry each combination of flags, and the first of them."""

    counts: dict[str, int] = field(default_factory=dict)
    first: list[FlaggedEvent] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        if not self.total:
            return []
        kinds = ", ".join(f"{flags} {n}" for flags, n in self.counts.items())
        lines = [
            f"{self.total} event(s) stored with envelope flags ({kinds}): chained and "
            "intact, but keyed or placed apart from their session (docs/contract.md)"
        ]
        lines += [f"  {event}" for event in self.first]
        if self.total > len(self.first):
            lines.append(f"  ... and {self.total - len(self.first)} more flagged")
        return lines


def flagged(store: TrailQueries, topics: Sequence[str], limit: int = 20) -> FlagSummary:
    """The flagged events of ``topics``: counts by flags, and the first ``limit`` by place."""
    params = {"topics": list(topics)}
    counts = {str(flags): int(n) for flags, n in store.query(COUNTS_SQL, params)}
    if not counts:
        return FlagSummary()
    first = [
        FlaggedEvent(str(t), int(p), int(o), str(e), str(s), str(f))
        for t, p, o, e, s, f in store.query(FIRST_SQL, {**params, "limit": limit})
    ]
    return FlagSummary(counts, first)
