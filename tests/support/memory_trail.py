"""An in-memory trail: the append and heads side of the store, for unit tests only.

It keeps what ClickHouse promises the write path and nothing more: an insert is all or
nothing, an insert whose dedup token was seen before is dropped, a partition's head is
its stored row of highest offset. ``refuse`` makes the next inserts fail as an outage
does (``StoreUnavailable``), before or after the rows landed (an answer lost on the way
back). Integration tests use the real engines, never this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ledger import COLUMN_NAMES, COLUMNS, ROW_COLUMNS, ChainHead, StoreUnavailable
from ledger.idempotency import Place, StoredEvent, event_content
from ledger.repeats import is_event
from ledger.rows import Row
from ledger.segments import ChainSegment
from ledger.store import check_token
from ledger.trail_row import TrailRow
from schemas import InvalidInput


@dataclass
class Refusal:
    inserts: int  # how many inserts to refuse
    landed: bool  # True: the rows are stored, only the answer is lost


@dataclass
class MemoryTrail:
    rows: list[Row] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # of every insert that landed
    checkpoints: list[ChainHead] = field(default_factory=list)
    segments: list[ChainSegment] = field(default_factory=list)
    attempts: int = 0  # inserts asked for, refused ones included
    dropped: int = 0  # inserts dropped for a token seen before
    _refusal: Refusal | None = None

    def refuse(self, inserts: int = 1, landed: bool = False) -> None:
        self._refusal = Refusal(inserts, landed)

    # --- append ----------------------------------------------------------------------

    def insert_trail(self, rows: Sequence[Row], dedup_token: str) -> None:
        check_token(dedup_token)
        self.attempts += 1
        for row in rows:
            if len(row) != len(COLUMNS):
                raise InvalidInput(f"trail rows have {len(COLUMNS)} columns, got {len(row)}")
        refusal = self._refusal
        if refusal is not None and refusal.inserts > 0:
            refusal.inserts -= 1
            if refusal.landed:
                self._land(rows, dedup_token)
            raise StoreUnavailable("memory trail refuses: Code: 210. NETWORK_ERROR", code=210)
        self._land(rows, dedup_token)

    def _land(self, rows: Sequence[Row], token: str) -> None:
        if token in self.tokens:
            self.dropped += 1
            return
        self.tokens.append(token)
        self.rows.extend(rows)

    # --- heads -----------------------------------------------------------------------

    def chain_heads(self, topic: str) -> dict[int, ChainHead]:
        heads: dict[int, ChainHead] = {}
        for row in self.rows:
            plain = _plain(row)
            if plain.kafka_topic != topic:
                continue
            known = heads.get(plain.kafka_partition)
            if known is None or plain.kafka_offset > known.offset:
                heads[plain.kafka_partition] = ChainHead(
                    topic, plain.kafka_partition, plain.kafka_offset, str(row[_ROW_HASH])
                )
        return heads

    def insert_checkpoints(
        self, heads: Sequence[ChainHead], created_at: datetime | None = None
    ) -> None:
        self.checkpoints.extend(h for h in heads if h.offset >= 0)

    def chain_segments(self, topic: str) -> dict[int, ChainSegment]:
        return {s.partition: s for s in self.segments if s.topic == topic}

    def record_segments(self, segments: Sequence[ChainSegment]) -> None:
        self.segments.extend(segments)

    # --- event index -----------------------------------------------------------------

    def first_copies(self, event_ids: Sequence[str], since: datetime) -> dict[str, StoredEvent]:
        wanted, found = set(event_ids), {}
        for row in map(_plain, self.rows):
            event_id = str(row.event_id)
            fresh = row.ingested_at >= since and event_id not in found
            if event_id in wanted and fresh and is_event(row):
                place = Place(row.kafka_topic, row.kafka_partition, row.kafka_offset)
                found[event_id] = StoredEvent(event_id, place, event_content(row))
        return found

    def stored_event_ids(self, topic: str, event_ids: Sequence[str]) -> set[str]:
        wanted = set(event_ids)
        return {
            str(r.event_id)
            for r in map(_plain, self.rows)
            if r.kafka_topic == topic and str(r.event_id) in wanted
        }

    # --- for tests -------------------------------------------------------------------

    def stored(self, topic: str, partition: int) -> list[TrailRow]:
        """A partition's stored rows (without hashes), in offset order."""
        rows = [_plain(r) for r in self.rows]
        mine = [r for r in rows if (r.kafka_topic, r.kafka_partition) == (topic, partition)]
        return sorted(mine, key=lambda r: r.kafka_offset)


_ROW_HASH = COLUMN_NAMES.index("row_hash")


def _plain(row: Row) -> TrailRow:
    return TrailRow._make(row[: len(ROW_COLUMNS)])
