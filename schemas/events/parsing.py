"""Parsing events: from JSON (JSONL files) or a decoded Avro record, by ``event_type``.

The union of models and the type list come from the catalogue (``schemas.catalogue``).
"""

from __future__ import annotations

import functools
import operator
from typing import Annotated, Any, cast

from pydantic import Field, TypeAdapter, ValidationError

from schemas.catalogue import EVENTS
from schemas.errors import InvalidInput
from schemas.events.envelope import Event

EVENT_TYPES: dict[str, type[Event]] = {spec.event_type: spec.model for spec in EVENTS}

# Every model, told apart by event_type (built from the catalogue, so typed loosely).
AnyEvent: Any = cast(Any, Annotated)[
    functools.reduce(operator.or_, EVENT_TYPES.values()), Field(discriminator="event_type")
]

_ADAPTER: TypeAdapter[Event] = TypeAdapter(AnyEvent)


class InvalidEvent(InvalidInput):
    """An event that fails validation; the message names each bad field."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message)
        self.errors = errors


def describe(error: ValidationError) -> list[str]:
    """One line per problem: the field's dotted path and what is wrong with it."""
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(event)"
        lines.append(f"{where}: {item['msg']}")
    return lines


def parse_event_json(text: str | bytes) -> Event:
    """One event from JSON (as in a JSONL file); ``event_type`` picks the model."""
    try:
        return _ADAPTER.validate_json(text)
    except ValidationError as exc:
        problems = describe(exc)
        raise InvalidEvent("invalid event: " + "; ".join(problems), problems) from exc


def event_from_avro(record: dict[str, Any]) -> Event:
    """The typed event back from a decoded Avro record (the inverse of ``to_avro``).

    UUIDs may be ``uuid.UUID`` or their text (``AvroCodec(uuids_as_text=True)``). Lax
    mode only for that: the Avro schema already fixed every other value's type, and a
    unit test keeps the models' fields equal to the schema's.
    """
    fields = dict(record)
    _branch, payload = fields.pop("payload")
    cls = EVENT_TYPES.get(str(fields.get("event_type")))
    if cls is None:
        raise InvalidEvent(f"unknown event_type {fields.get('event_type')!r}", [])
    try:
        return cls.model_validate(fields | payload, strict=False)
    except ValidationError as exc:
        problems = describe(exc)
        raise InvalidEvent("invalid event: " + "; ".join(problems), problems) from exc
