"""Appending signed erasure records to the trail: the consumer does it, not ``erase``.

On the embedded store only one process can open the store, and the consumer holds it
while it runs; on a server store several consumers may run. So ``erase`` publishes the
record on the erasures topic and the consumer appends it, as a row of its own chain
``<erasures topic>[0]`` (offsets 0, 1, 2... in the order records were read), which its
checkpointer then signs like any partition's tree. Only the member that owns partition 0
of the first event topic appends (one writer per chain, as for event partitions).

Nothing is appended twice: a record's event id is derived from its content (subject and
keys), and records whose event id the trail (or its links) already holds are skipped,
so a restarted consumer, a re-published record and a store rebuilt from Kafka all end up
with each record once. A record read but not yet stored when the consumer stops is read
again at the next start (the feed reads the whole topic then).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from ledger.chain import ChainHead, link
from ledger.erasure_record import SignedRecord, record_row
from ledger.store_parts import EventIndex, TrailSink
from ledger.trail_batch import batch_token

log = logging.getLogger(__name__)

PARTITION = 0


class RecordStore(TrailSink, EventIndex, Protocol):
    """Append, heads, and which record ids the chain holds already."""


class RecordSource(Protocol):
    """The erasures topic as read so far (``consumers.erasure_feed.ErasureFeed``)."""

    def records_since(self, seen: int) -> list[SignedRecord]: ...


class ErasureRecordAppender:
    def __init__(
        self, store: RecordStore, topic: str, source: RecordSource, clock: Callable[[], datetime]
    ) -> None:
        self.store, self.topic, self.source, self.clock = store, topic, source, clock
        self._seen = 0
        self._head: ChainHead | None = None

    @property
    def head(self) -> ChainHead | None:
        """The chain's head once anything is stored in it (for the checkpointer)."""
        return self._head if self._head is not None and self._head.offset >= 0 else None

    def append_new(self) -> None:
        """Store every record read since the last call that the trail does not hold yet.
        Cheap when nothing arrived (no query). Safe to call again after a failure."""
        fresh = self.source.records_since(self._seen)
        if not fresh:
            return
        # Read from the store each time: another member may have owned the chain since.
        stored = self.store.chain_heads(self.topic).get(PARTITION)
        self._head = None  # until stored: an insert that failed may still have landed
        start = stored if stored is not None else ChainHead.start(self.topic, PARTITION)
        self._head = self._store_missing(fresh, start)
        self._seen += len(fresh)

    def _store_missing(self, fresh: Sequence[SignedRecord], head: ChainHead) -> ChainHead:
        """Append the records the chain lacks after ``head``; the chain's new head."""
        ids = [str(r.record.event_id) for r in fresh]
        known = self.store.stored_event_ids(self.topic, ids)
        for signed in fresh:
            event_id = str(signed.record.event_id)
            if event_id in known:
                continue
            offset = head.offset + 1
            row = record_row(signed, self.topic, PARTITION, offset, self.clock())
            (linked,), head = link([row], head)
            # One row per insert: records are rare, and each is then all or nothing.
            self.store.insert_trail([linked], batch_token(self.topic, PARTITION, offset, offset))
            known.add(event_id)
            log.info("erasure record %s appended at %s[%d] offset %d",
                     event_id, self.topic, PARTITION, offset)  # fmt: skip
        return head
