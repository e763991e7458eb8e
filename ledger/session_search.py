"""An auditor's search for sessions: by person, time range and event type, paged.

Auditors only (the caller checks the role; this module reads everything). Each filter
adds a fixed SQL fragment and a typed parameter; no value is ever pasted into the SQL.
A session matches when it has an event inside the time range, the person appears in one
of its events (``subjects``, bloom-indexed), and it holds an event of the asked type.
Pages are ordered newest first, then by session id, so a page is stable while the trail
grows only at its new end.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledger.access import subject_id
from ledger.store_parts import TrailQueries
from schemas import InvalidInput

MAX_PAGE_SIZE = 100
_EVENT_TYPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz_")


@dataclass(frozen=True)
class SessionQuery:
    person: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    event_type: str | None = None
    page: int = 1
    page_size: int = 20

    def __post_init__(self) -> None:
        if self.person is not None:
            subject_id(self.person, "person id")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidInput(f"{name} {value.isoformat()}: give a time zone (e.g. Z)")
        if self.since and self.until and self.since >= self.until:
            raise InvalidInput("since must be before until")
        if self.event_type is not None and not (
            0 < len(self.event_type) <= 64 and set(self.event_type) <= _EVENT_TYPE_CHARS
        ):
            raise InvalidInput(
                f"invalid event type {self.event_type[:80]!r}: lower-case letters and _"
            )
        if self.page < 1 or not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise InvalidInput(f"page from 1, page_size 1-{MAX_PAGE_SIZE}")


@dataclass(frozen=True)
class SessionSummary:
    session_id: uuid.UUID
    first_at: datetime
    last_at: datetime
    events: int
    event_types: tuple[str, ...]
    people: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "session_id": str(self.session_id),
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "events": self.events,
            "event_types": list(self.event_types),
            "people": list(self.people),
        }


@dataclass(frozen=True)
class SessionPage:
    sessions: list[SessionSummary] = field(default_factory=list)
    page: int = 1
    more: bool = False


def search_sessions(store: TrailQueries, query: SessionQuery) -> SessionPage:
    where = ["family NOT IN ('duplicate', 'dead_letter')"]
    params: dict[str, Any] = {
        "limit": query.page_size + 1,  # one more tells whether a next page exists
        "skip": (query.page - 1) * query.page_size,
    }
    if query.since is not None:
        where.append("occurred_at >= {since:DateTime64(6, 'UTC')}")
        params["since"] = query.since.astimezone(UTC)
    if query.until is not None:
        where.append("occurred_at < {until:DateTime64(6, 'UTC')}")
        params["until"] = query.until.astimezone(UTC)
    if query.person is not None:
        where.append(
            "session_id IN (SELECT session_id FROM trail WHERE has(subjects, {person:String}))"
        )
        params["person"] = query.person
    having = ""
    if query.event_type is not None:
        having = "HAVING has(event_types, {event_type:String})"
        params["event_type"] = query.event_type
    sql = (
        "SELECT session_id, min(occurred_at) AS first_at, max(occurred_at) AS last_at, "
        "count() AS events, arraySort(groupUniqArray(event_type)) AS event_types, "
        "arraySort(groupUniqArrayArray(subjects)) AS people "
        f"FROM trail WHERE {' AND '.join(where)} GROUP BY session_id {having} "
        "ORDER BY last_at DESC, session_id LIMIT {limit:UInt64} OFFSET {skip:UInt64}"
    )
    rows = store.query(sql, params)
    sessions = [
        SessionSummary(
            session_id=row[0] if isinstance(row[0], uuid.UUID) else uuid.UUID(str(row[0])),
            first_at=_aware(row[1]),
            last_at=_aware(row[2]),
            events=int(row[3]),
            event_types=tuple(row[4]),
            people=tuple(row[5]),
        )
        for row in rows[: query.page_size]
    ]
    return SessionPage(sessions, query.page, more=len(rows) > query.page_size)


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
