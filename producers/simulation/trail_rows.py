"""Trail rows from simulated events, made the way the consumer makes them: the event's
Avro bytes (as ``AuditProducer`` sends them) decoded, then ``ledger.trail_row``.

Shared by the tests and the benchmarks (which must not import the tests), so both build
rows through the real codec and the real row builder, never by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from ledger import trail_row
from ledger.trail_row import TrailRow
from producers.events import Event
from schemas import AvroCodec


def decoded_rows(
    events: Iterable[Event],
    topic: str,
    partition: int = 0,
    first_offset: int = 0,
    ingested_at: datetime | None = None,
) -> list[TrailRow]:
    """One row per event, at consecutive offsets from ``first_offset``; ``ingested_at``
    defaults to now (taken once per row, as the consumer stamps each row)."""
    codec = AvroCodec()
    rows = []
    for offset, event in enumerate(events, start=first_offset):
        decoded = codec.decode(codec.encode(event.family, event.to_avro()))
        rows.append(
            trail_row(
                decoded.record,
                family=decoded.writer.family,
                schema_version=decoded.writer.version,
                topic=topic,
                partition=partition,
                offset=offset,
                ingested_at=ingested_at or datetime.now(UTC),
            )
        )
    return rows
