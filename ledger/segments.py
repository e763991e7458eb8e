"""Chain segments: a partition's chain read from one Kafka partition, then another.

A Kafka partition can start over under the same name (a topic deleted and recreated, a
broker's data wiped, a cluster migrated): its offsets begin again at 0, and its topic id
changes. The trail does not start over with it. An operator records a new segment
(``audit-trail chain restart``): from then on a record at Kafka offset ``k`` is stored at
``k + offset_shift``, so stored offsets keep growing without a gap and the segment's
first row links to the old head. Segment 0 is the partition first seen, recorded by the
consumer with the topic id it read (``""`` where the broker does not say).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ledger.chain import ZERO_HASH, ChainHead
from ledger.store_parts import TrailQueries

# INSERT ... SELECT takes server-side parameters on both backends: no value is quoted.
# One SELECT per segment, UNION ALL: one insert, one part, however many partitions.
_ROW_SQL = """SELECT {{topic_{i}:String}}, {{partition_{i}:UInt16}}, {{segment_{i}:UInt32}},
       {{first_offset_{i}:UInt64}}, {{offset_shift_{i}:Int64}}, {{topic_id_{i}:String}},
       {{prev_offset_{i}:Int64}}, {{prev_hash_{i}:String}}, {{reason_{i}:String}},
       {{recorded_by_{i}:String}}, {{created_at_{i}:DateTime64(6, 'UTC')}}"""
_SELECT_SQL = """SELECT partition, segment, first_offset, offset_shift, topic_id, prev_offset,
       prev_hash, reason, recorded_by, toUnixTimestamp64Micro(created_at)
FROM chain_segments WHERE topic = {topic:String}
ORDER BY partition, segment, created_at"""


@dataclass(frozen=True)
class ChainSegment:
    topic: str
    partition: int
    segment: int
    first_offset: int  # stored offset of the segment's first row
    offset_shift: int  # stored offset = Kafka offset + offset_shift
    topic_id: str  # Kafka's id of the topic read ("" unknown)
    prev_offset: int = -1  # the old head this segment continues (-1: none)
    prev_hash: str = ZERO_HASH
    reason: str = ""
    recorded_by: str = ""
    created_at: datetime | None = None

    @classmethod
    def first(cls, topic: str, partition: int, topic_id: str) -> ChainSegment:
        return cls(topic, partition, 0, 0, 0, topic_id, reason="first seen by the consumer")

    def after(
        self, head: ChainHead, earliest: int, topic_id: str, reason: str, recorded_by: str
    ) -> ChainSegment:
        """The segment that continues ``head`` from Kafka offset ``earliest`` on."""
        return ChainSegment(
            self.topic,
            self.partition,
            self.segment + 1,
            first_offset=head.offset + 1,
            offset_shift=head.offset + 1 - earliest,
            topic_id=topic_id,
            prev_offset=head.offset,
            prev_hash=head.row_hash,
            reason=reason,
            recorded_by=recorded_by,
        )

    def kafka_offset(self, stored: int) -> int:
        return stored - self.offset_shift

    def stored_offset(self, kafka: int) -> int:
        return kafka + self.offset_shift


def record_segments(store: TrailQueries, recorded: list[ChainSegment]) -> None:
    if not recorded:
        return
    now = datetime.now(UTC)
    params: dict[str, object] = {}
    for i, s in enumerate(recorded):
        values = {
            "topic": s.topic,
            "partition": s.partition,
            "segment": s.segment,
            "first_offset": s.first_offset,
            "offset_shift": s.offset_shift,
            "topic_id": s.topic_id,
            "prev_offset": s.prev_offset,
            "prev_hash": s.prev_hash,
            "reason": s.reason,
            "recorded_by": s.recorded_by,
            "created_at": s.created_at or now,
        }
        params.update({f"{name}_{i}": value for name, value in values.items()})
    selects = "\nUNION ALL\n".join(_ROW_SQL.format(i=i) for i in range(len(recorded)))
    store.query(f"INSERT INTO chain_segments\n{selects}", params)


def segments(store: TrailQueries, topic: str) -> dict[int, list[ChainSegment]]:
    """Every recorded segment of ``topic``'s partitions, oldest first."""
    found: dict[int, list[ChainSegment]] = {}
    for row in store.query(_SELECT_SQL, {"topic": topic}):
        partition, number, first, shift, topic_id, prev_offset, prev_hash, reason, by, at = row
        segment = ChainSegment(
            topic,
            int(partition),
            int(number),
            int(first),
            int(shift),
            str(topic_id),
            int(prev_offset),
            str(prev_hash),
            str(reason),
            str(by),
            datetime.fromtimestamp(int(at) / 1_000_000, UTC),
        )
        runs = found.setdefault(int(partition), [])
        # Recorded twice (a retried write): the first record stands.
        if not runs or runs[-1].segment != segment.segment:
            runs.append(segment)
    return found


def current_segments(store: TrailQueries, topic: str) -> dict[int, ChainSegment]:
    return {partition: runs[-1] for partition, runs in segments(store, topic).items()}
