"""Honour event_id as the idempotency key before a flush is linked and stored.

A message whose event_id is stored already (within the window), or appears earlier in
the same flush, becomes a duplicate row at its own offset (``ledger.duplicate_row``):
same content, a repeat; other content, a conflict that verify reports. The answer comes
from the store, so it holds across batches, partitions, topics, restarts and rebalances.

Limit: two consumers storing the same id on two partitions in the same instant (each
flush looks before either has stored) both keep it; verify then names it. One partition
has one owner, and a producer's retry goes to the same partition (key = session_id).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from consumers.batching import Item, PartitionBatch
from ledger import DEAD_LETTER, DUPLICATE, Store, duplicate_row
from ledger.idempotency import Place, StoredEvent, differences, event_content, stored_events

log = logging.getLogger(__name__)


@dataclass
class DedupCounts:
    repeats: int = 0  # same event_id, same content: recorded as a duplicate
    conflicts: int = 0  # same event_id, other content: recorded as a conflict


class Deduplicator:
    def __init__(
        self,
        store: Store,
        window: timedelta,
        clock: Callable[[], datetime],
        on_repeat: Callable[[str], None] = lambda kind: None,
    ) -> None:
        self.store, self.window, self.clock = store, window, clock
        self.on_repeat = on_repeat  # told each repeat's kind (a metric)
        self.counts = DedupCounts()

    def settle(self, batches: Sequence[PartitionBatch]) -> None:
        """Replace, in place, each repeated event of ``batches`` by its duplicate row.

        ``batches`` in a fixed order (topic, partition): the first copy in that order
        stays the event. The store is asked before anything changes, so a failed lookup
        (store down) may be retried as is.
        """
        events = [item.row for b in batches for item in b.items if _is_event(item)]
        stored = stored_events(self.store, events, self.clock() - self.window)
        seen: dict[str, Item] = {}  # first copies in this flush (content built on a repeat)
        for batch in batches:
            for i, item in enumerate(batch.items):
                if not _is_event(item):
                    continue
                event_id = str(item.row.event_id)
                first = stored.get(event_id)
                if first is None and event_id in seen:
                    earlier = seen[event_id]
                    first = StoredEvent(event_id, _place(earlier), event_content(earlier.row))
                if first is None:
                    seen[event_id] = item
                    continue
                batch.items[i] = self._repeat(item, first)

    def _repeat(self, item: Item, first: StoredEvent) -> Item:
        changed = (
            differences(first.content, event_content(item.row)) if first.content is not None else []
        )
        row = duplicate_row(item.row, first=str(first.place), conflicts=changed)
        self.on_repeat(row.event_type)
        if changed:
            self.counts.conflicts += 1
            log.warning(
                "%s: event_id %s was stored at %s with other content (%s): recorded as a conflict",
                _place(item),
                first.event_id,
                first.place,
                "; ".join(changed)[:500],
            )
        else:
            self.counts.repeats += 1
        return Item(item.offset, row, item.letter, part=item.part)


def _is_event(item: Item) -> bool:
    return item.letter is None and item.row.family not in (DEAD_LETTER, DUPLICATE)


def _place(item: Item) -> Place:
    return Place(item.row.kafka_topic, item.row.kafka_partition, item.offset)
