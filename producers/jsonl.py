"""Send events from a JSON Lines file: one event per line, bad lines reported, never sent.

Every line carries its ``event_id``, the idempotency key: sending the file again then
stores nothing twice. A file without ids may ask for ids derived from each line's
content (``derive_event_id``): a UUIDv5 of the event's canonical form, so the same event
gets the same id however its line is spelled (key order, spacing, time zone).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from producers.events import Event, InvalidEvent, parse_event_json
from producers.producer import AuditProducer
from schemas import EncodeError


@dataclass(frozen=True)
class BadLine:
    line_number: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line_number}: {self.reason}"


@dataclass
class JsonlReport:
    sent: Counter[str] = field(default_factory=Counter)
    bad: list[BadLine] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.bad


# Fixed namespace: the same event content always derives the same event_id.
_DERIVED_NS = uuid.UUID("2b7f0d3e-8c41-5a0e-9f26-4d1c7e93a5b8")
_NO_ID = (
    "no event_id: every line needs one (the idempotency key, so a file sent twice is "
    "stored once), or pass --derive-event-id to derive it from the line's content"
)


def derived_event_id(event: Event) -> uuid.UUID:
    """A UUIDv5 of the event's canonical content (everything but its event_id)."""
    content = event.model_dump(mode="python", exclude={"event_id"})
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=_plain)
    return uuid.uuid5(_DERIVED_NS, canonical)


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"{type(value).__name__} has no canonical form")


def parse_line(line: str, *, derive_event_id: bool = False) -> Event:
    """One event from a JSONL line; one without event_id is refused unless derived."""
    try:
        fields = json.loads(line)
    except ValueError:
        return parse_event_json(line)  # its error names what is wrong with the JSON
    if not isinstance(fields, dict):
        raise InvalidEvent("a line must hold one JSON object (an event)", [])
    if "event_id" in fields:
        return parse_event_json(line)
    try:  # the rest is checked either way, so one run names every problem of the line
        event = parse_event_json(json.dumps({**fields, "event_id": str(uuid.UUID(int=0))}))
    except InvalidEvent as exc:
        if derive_event_id:
            raise
        raise InvalidEvent(f"{_NO_ID}; {exc}", [_NO_ID, *exc.errors]) from exc
    if not derive_event_id:
        raise InvalidEvent(_NO_ID, [_NO_ID])
    return event.model_copy(update={"event_id": derived_event_id(event)})


def produce_lines(
    lines: Iterable[str], producer: AuditProducer, *, derive_event_id: bool = False
) -> JsonlReport:
    """Validate each line; send the good ones, collect the bad ones with their reasons.

    A bad line never stops the good ones after it; the caller decides the exit status.
    Delivery failures are not bad lines: they raise from the final flush.
    """
    report = JsonlReport()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = parse_line(line, derive_event_id=derive_event_id)
            producer.send(event)
        except (InvalidEvent, EncodeError) as exc:
            report.bad.append(BadLine(number, str(exc)))
            continue
        report.sent[event.event_type] += 1
    producer.flush()
    return report


def produce_file(
    path: Path, producer: AuditProducer, *, derive_event_id: bool = False
) -> JsonlReport:
    with path.open(encoding="utf-8") as lines:
        return produce_lines(lines, producer, derive_event_id=derive_event_id)
