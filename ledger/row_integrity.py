"""Integrity of the rows a reader is shown: each one checked against its own hash and
its place in its partition's chain, so a viewer can mark a tampered row instead of
hiding it.

The full check is ``ledger.verify`` (every row of every partition, offsets contiguous,
checkpoints). This one is bounded by what is shown: per shown row,

- ``altered``: its stored content no longer gives its own ``row_hash``;
- ``broken_link``: its ``row_hash`` is not the one ``trail_links`` recorded for its
  offset when it was inserted (a rewrite that recomputed the hash), or its ``prev_hash``
  is not the ``row_hash`` recorded one offset before (the row was moved or re-linked);
- ``ok``: neither. A predecessor no longer linked (expired from the start of the chain,
  or the first row of a chain segment) leaves only the link unchecked, and says so.

``trail_links`` is ordered by (topic, partition, offset), so the link lookups are
primary-key reads however large the partition.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from ledger.chain import ZERO_HASH, hashed_form_select, row_hash
from ledger.columns import INDEX
from ledger.store_parts import TrailQueries
from schemas import InvalidInput

Status = Literal["ok", "altered", "broken_link"]
Coordinates = tuple[str, int, int]  # kafka topic, partition, offset

# The rows a session read returns (ledger.reader.SESSION_SQL), in the form the hash covers.
SESSION_ROWS_SQL = (
    f"SELECT {hashed_form_select()} FROM trail WHERE session_id = {{sid:UUID}} "
    "AND family != 'duplicate' AND (family != 'dead_letter' OR {auditor:Bool})"
)
LINKS_SQL = """SELECT kafka_offset, groupUniqArray(row_hash) FROM trail_links
WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16}
  AND kafka_offset IN {offsets:Array(UInt64)}
GROUP BY kafka_offset"""

_TOPIC, _PARTITION = INDEX["kafka_topic"], INDEX["kafka_partition"]
_OFFSET, _PREV, _HASH = INDEX["kafka_offset"], INDEX["prev_hash"], INDEX["row_hash"]


@dataclass(frozen=True)
class RowIntegrity:
    status: Status
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"status": self.status, "detail": self.detail}


def session_integrity(
    store: TrailQueries, session_id: uuid.UUID, *, auditor: bool
) -> dict[Coordinates, RowIntegrity]:
    """Each row of the session a reader may be shown, by its Kafka coordinates."""
    rows = store.query(SESSION_ROWS_SQL, {"sid": session_id, "auditor": auditor})
    by_partition: dict[tuple[str, int], list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_partition[(str(row[_TOPIC]), int(row[_PARTITION]))].append(row)
    result: dict[Coordinates, RowIntegrity] = {}
    for (topic, partition), shown in by_partition.items():
        offsets = {int(r[_OFFSET]) for r in shown}
        wanted = sorted(offsets | {o - 1 for o in offsets if o > 0})
        links = {
            int(offset): {str(h) for h in hashes}
            for offset, hashes in store.query(
                LINKS_SQL, {"topic": topic, "partition": partition, "offsets": wanted}
            )
        }
        for row in shown:
            result[(topic, partition, int(row[_OFFSET]))] = _judge(row, links)
    return result


def _judge(row: tuple[Any, ...], links: dict[int, set[str]]) -> RowIntegrity:
    offset, prev, stored = int(row[_OFFSET]), str(row[_PREV]), str(row[_HASH])
    try:
        recomputed = row_hash(prev, row)
    except (ValueError, InvalidInput) as exc:  # a prev_hash no hex, an unknown chain_version
        return RowIntegrity("altered", f"the row cannot be hashed: {exc}")
    if recomputed != stored:
        return RowIntegrity("altered", "the row's content does not give its own row_hash")
    recorded = links.get(offset)
    if recorded is None or recorded != {stored}:
        return RowIntegrity(
            "broken_link", f"row_hash differs from the one linked at offset {offset}"
        )
    if prev == ZERO_HASH:
        return RowIntegrity("ok", "first row of its chain; content matches its hash")
    before = links.get(offset - 1)
    if before is None:
        return RowIntegrity("ok", "content matches its hash; the row before it is no longer linked")
    if before != {prev}:
        return RowIntegrity(
            "broken_link", f"prev_hash is not the row_hash linked at offset {offset - 1}"
        )
    return RowIntegrity("ok", "content matches its hash and links to the row before")
