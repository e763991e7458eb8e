"""Honour event_id as the idempotency key before a flush is sealed, linked and stored.

A message whose event_id is stored already (within the window), or appears earlier in
the same flush, becomes a duplicate row at its own offset (``ledger.duplicate_row``):
same content, a repeat; other content, a conflict that verify reports. The answer comes
from the store, so it holds across batches, partitions, topics, restarts and rebalances.

Rows are settled before they are sealed: the compared content leaves the personal
columns out (``ledger.idempotency.CONTENT_NAMES``), so plain and sealed rows compare
alike, and a repeat, whose duplicate row holds no personal data, needs no key.

Limit: two consumers storing the same id on two partitions in the same instant (each
flush looks before either has stored) both keep it; verify then names it. One partition
has one owner, and a producer's retry goes to the same partition (key = session_id).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ledger.idempotency import Place, StoredEvent, differences, event_content
from ledger.rows import DEAD_LETTER, DUPLICATE, duplicate_row
from ledger.store_parts import EventIndex
from ledger.trail_batch import PartitionRows
from ledger.trail_row import TrailRow

# The name it always logged under: operators' log filters keep working.
log = logging.getLogger("consumers.idempotency")


@dataclass
class DedupCounts:
    repeats: int = 0  # same event_id, same content: recorded as a duplicate
    conflicts: int = 0  # same event_id, other content: recorded as a conflict


class Deduplicator:
    def __init__(
        self,
        index: EventIndex,
        window: timedelta,
        clock: Callable[[], datetime],
        on_repeat: Callable[[str], None] = lambda kind: None,
    ) -> None:
        self.index, self.window, self.clock = index, window, clock
        self.on_repeat = on_repeat  # told each repeat's kind (a metric)
        self.counts = DedupCounts()

    def settle(self, batches: Sequence[PartitionRows]) -> list[PartitionRows]:
        """``batches`` with each repeated event replaced by its duplicate row.

        ``batches`` in a fixed order (topic, partition): the first copy in that order
        stays the event. The store is asked before anything is counted, so a failed
        lookup (store down) may be retried as is; ``batches`` are never changed.
        """
        ids = [str(row.event_id) for b in batches for row in b.rows if is_event(row)]
        stored = self.index.first_copies(ids, self.clock() - self.window) if ids else {}
        seen: dict[str, TrailRow] = {}  # first copies in this flush (content built on a repeat)
        settled: list[PartitionRows] = []
        for batch in batches:
            rows = list(batch.rows)
            for i, row in enumerate(rows):
                if not is_event(row):
                    continue
                event_id = str(row.event_id)
                first = stored.get(event_id)
                if first is None and event_id in seen:
                    earlier = seen[event_id]
                    first = StoredEvent(event_id, _place(earlier), event_content(earlier))
                if first is None:
                    seen[event_id] = row
                    continue
                rows[i] = self._repeat(row, first)
            settled.append(replace(batch, rows=rows))
        return settled

    def _repeat(self, row: TrailRow, first: StoredEvent) -> TrailRow:
        changed = (
            differences(first.content, event_content(row)) if first.content is not None else []
        )
        duplicate = duplicate_row(row, first=str(first.place), conflicts=changed)
        self.on_repeat(duplicate.event_type)
        if changed:
            self.counts.conflicts += 1
            log.warning(
                "%s: event_id %s was stored at %s with other content (%s): recorded as a conflict",
                _place(row),
                first.event_id,
                first.place,
                "; ".join(changed)[:500],
            )
        else:
            self.counts.repeats += 1
        return duplicate


def is_event(row: TrailRow) -> bool:
    """An event of the contract (not a dead letter's nor a duplicate's row)."""
    return row.family not in (DEAD_LETTER, DUPLICATE)


def _place(row: TrailRow) -> Place:
    return Place(row.kafka_topic, row.kafka_partition, row.kafka_offset)
