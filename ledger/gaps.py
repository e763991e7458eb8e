"""Missing offsets in a partition's trail: retention at work, or rows deleted by someone?

Retention deletes trail rows by category, which leaves holes in the offsets and the hash
chain. The chain's links (``trail_links``, kept for the longest retention) still hold
every row's coordinates, time, category and hashes, so a hole is accepted only when its
links are all there, chain correctly from the row before to the row after, and each is
past its category's retention.
"""

from __future__ import annotations

from datetime import datetime

from ledger.retention import RetentionPolicy, expired
from ledger.store_parts import TrailQueries

LINKS_SQL = """SELECT kafka_offset, family, event_type, occurred_at, prev_hash, row_hash
FROM trail_links WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16}
    AND kafka_offset BETWEEN {lo:UInt64} AND {hi:UInt64}
ORDER BY kafka_offset"""


class GapJudge:
    """Decides whether missing offsets are retention at work or rows deleted by someone."""

    def __init__(
        self,
        store: TrailQueries,
        topic: str,
        partition: int,
        policy: RetentionPolicy | None,
        now: datetime,
    ) -> None:
        self.store, self.topic, self.partition = store, topic, partition
        self.policy, self.now = policy, now

    def unexplained(
        self, lo: int, hi: int, before: str, after_prev: str | None, end: set[str] | None = None
    ) -> str | None:
        """None when offsets lo..hi all expired and chain from ``before`` to the next row."""
        if self.policy is None:
            return "no retention policy given to explain them"
        links = self.store.query(
            LINKS_SQL, {"topic": self.topic, "partition": self.partition, "lo": lo, "hi": hi}
        )
        if [int(link[0]) for link in links] != list(range(lo, hi + 1)):
            return "the chain's links for them are missing too"
        running = before
        for offset, family, event_type, occurred_at, prev, stored in links:
            if running and prev != running:
                return f"the chain's link at offset {offset} does not continue the chain"
            if not expired(self.policy, str(family), str(event_type), occurred_at, self.now):
                return f"offset {offset} ({event_type}) is gone before its retention ended"
            running = str(stored)
        if after_prev is not None and after_prev != running:
            return "the next row does not chain to the last expired link"
        if end is not None and running not in end:
            return "the last expired link differs from the checkpoint"
        return None
