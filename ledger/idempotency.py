"""event_id is the idempotency key: which ids are stored already, with what content.

The write path asks once per flush (``first_copies``, through ``EventIndex``); verify
asks what was recorded (``recorded_duplicates``). A repeated message is kept in the
trail as a row of family ``duplicate`` at its own offset, with an id of its own
(``rows.duplicate_row``): offsets stay contiguous, the chain unbroken, and no query
shows the event's id twice.

Content is compared on the event's own columns, minus where it was read (Kafka
coordinates, ingestion time, envelope flags), the writer's schema version (a newer
producer may send the same event again) and the personal columns: those are stored
sealed with a random nonce, and a plain digest of them would outlive an erasure (an IP
is easy to guess back).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.columns import COLUMNS, HASHED_NAMES, INDEX
from ledger.rows import DUPLICATE, EVENT_ID_CONFLICT
from ledger.store_parts import TrailQueries
from ledger.trail_row import TrailRow

_NOT_CONTENT = frozenset(
    {"kafka_topic", "kafka_partition", "kafka_offset", "envelope_flags", "schema_version"}
)
CONTENT_NAMES: tuple[str, ...] = tuple(
    name for name in HASHED_NAMES if name not in _NOT_CONTENT and not COLUMNS[INDEX[name]].personal
)
_TIME_NAMES = frozenset(n for n in CONTENT_NAMES if "DateTime64" in COLUMNS[INDEX[n]].type)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NOT_EVENTS = "family NOT IN ('dead_letter', 'duplicate')"

# The first stored copy of each id within the window (event_ids is sorted by event_id).
LOOKUP_SQL = """SELECT toString(event_id), toString(session_id),
    kafka_topic, kafka_partition, kafka_offset
FROM event_ids
WHERE event_id IN {ids:Array(UUID)} AND ingested_at >= {since:DateTime64(6, 'UTC')}
ORDER BY event_id, ingested_at, kafka_topic, kafka_partition, kafka_offset
LIMIT 1 BY event_id"""


def _content_expr(name: str) -> str:
    kind = COLUMNS[INDEX[name]].type
    if "UUID" in kind:
        return f"toString({name})"
    if "DateTime64" in kind:
        return f"toUnixTimestamp64Micro({name})"
    return name


# The first copies' content, found by the trail's sort key (session_id leads it).
CONTENT_SQL = f"""SELECT kafka_topic, kafka_partition, kafka_offset,
    {", ".join(_content_expr(n) for n in CONTENT_NAMES)}
FROM trail WHERE session_id IN {{sids:Array(UUID)}} AND event_id IN {{ids:Array(UUID)}}
    AND {_NOT_EVENTS}"""

RECORDED_SQL = """SELECT countIf(event_type != {conflict:String}),
    countIf(event_type = {conflict:String})
FROM trail WHERE family = {family:String} AND kafka_topic IN {topics:Array(String)}"""
# A duplicate row's reason starts with the repeated event's id (rows.duplicate_row).
CONFLICTS_SQL = """SELECT kafka_topic, kafka_partition, kafka_offset,
    extract(reason, '^event_id ([0-9a-f-]{36}):'), reason
FROM trail WHERE family = {family:String} AND event_type = {conflict:String}
    AND kafka_topic IN {topics:Array(String)}
ORDER BY kafka_topic, kafka_partition, kafka_offset LIMIT {limit:UInt64}"""


@dataclass(frozen=True)
class Place:
    """Where a message was stored: Kafka coordinates, which are also the trail's."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}] offset {self.offset}"


@dataclass(frozen=True)
class StoredEvent:
    """The first stored copy of an event; ``content`` is None if the trail lost it since
    (retention), in which case a repeat can only be called a duplicate, not compared."""

    event_id: str
    place: Place
    content: Mapping[str, Any] | None


@dataclass(frozen=True)
class RecordedConflict:
    place: Place
    event_id: str
    detail: str


def event_content(row: TrailRow) -> dict[str, Any]:
    """A row's compared content, in the form the store returns it (``CONTENT_SQL``)."""
    return {name: _plain(getattr(row, name)) for name in CONTENT_NAMES}


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        delta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return value


def differences(stored: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """``name: stored -> new`` for each compared column that differs (no personal data).
    Values are shown as ``repr`` (control characters escaped), times in ISO form."""
    return [
        f"{name}: {_shown(name, stored.get(name))} -> {_shown(name, new.get(name))}"
        for name in CONTENT_NAMES
        if stored.get(name) != new.get(name)
    ]


def _shown(name: str, value: Any) -> str:
    if isinstance(value, int) and name in _TIME_NAMES:
        return (_EPOCH + timedelta(microseconds=value)).isoformat()
    return repr(value)


def stored_events(
    store: TrailQueries, rows: Sequence[TrailRow], since: datetime
) -> dict[str, StoredEvent]:
    """The first stored copy, ingested at or after ``since``, of each of ``rows``' ids."""
    return first_copies(store, [str(row.event_id) for row in rows], since)


def first_copies(
    store: TrailQueries, event_ids: Sequence[str], since: datetime
) -> dict[str, StoredEvent]:
    """The first stored copy, ingested at or after ``since``, of each of ``event_ids``."""
    ids = sorted(set(event_ids))
    if not ids:
        return {}
    found = store.query(LOOKUP_SQL, {"ids": ids, "since": since})
    if not found:
        return {}
    places = {
        str(eid): (str(sid), Place(str(topic), int(part), int(off)))
        for eid, sid, topic, part, off in found
    }
    contents: dict[Place, dict[str, Any]] = {}
    params = {"sids": sorted({sid for sid, _ in places.values()}), "ids": sorted(places)}
    for topic, part, off, *values in store.query(CONTENT_SQL, params):
        contents[Place(str(topic), int(part), int(off))] = dict(
            zip(CONTENT_NAMES, values, strict=True)
        )
    return {eid: StoredEvent(eid, place, contents.get(place)) for eid, (_, place) in places.items()}


def recorded_duplicates(
    store: TrailQueries, topics: Iterable[str], limit: int
) -> tuple[int, int, list[RecordedConflict]]:
    """How many repeats and conflicts ``topics`` recorded, and the first ``limit``
    conflicts (the same event_id stored before with other content)."""
    params: dict[str, Any] = {
        "family": DUPLICATE,
        "conflict": EVENT_ID_CONFLICT,
        "topics": list(topics),
    }
    ((repeats, conflicts),) = store.query(RECORDED_SQL, params)
    listed = [
        RecordedConflict(Place(str(t), int(p), int(o)), str(eid), str(reason))
        for t, p, o, eid, reason in store.query(CONFLICTS_SQL, {**params, "limit": limit})
    ]
    return int(repeats), int(conflicts), listed
