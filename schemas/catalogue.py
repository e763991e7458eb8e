"""The catalogue of event types: what each one is, declared once.

Per event type: its model (which fixes its name, family and Avro branch), the schema
version that introduced it, its retention category, the fields that name people and in
which capacity, the personal fields and whose key seals them, whether it proves that
someone took part in its session, and what the reader's table shows of it.

Everything else that depends on the list of event types is derived from here, never
written again: the model union (``schemas.events``), the trail's payload columns
(``ledger.payload_columns``), the TTL and expiry rule (``ledger.retention``), the took-part
rule in SQL and Python (``ledger.participation``), the ``subjects`` column
(``ledger.subjects``), the sealing plan (``ledger.privacy.sealing``), the reader's shown
fields (``audit_trail.cli.reader_cmd``) and the simulator's coverage test.
docs/adding-an-event-type.md is the checklist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from schemas.events.envelope import Event
from schemas.events.session import (
    ChatMessageSent,
    FileTransferred,
    NoteSaved,
    ParticipantDisconnected,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantReconnected,
    ScreenShareStarted,
    SessionAccessAttempted,
    SessionCompleted,
    SessionRated,
)
from schemas.events.transaction import (
    BookingCancelled,
    BookingConfirmed,
    BookingInitiated,
    BookingRescheduled,
    PaymentAttempted,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
)

# In which capacity a field names a person. "party": a party of the session (client,
# specialist, or whoever the event says joined). Order: the subjects column's order.
Capacity = Literal["actor", "party", "payer", "author", "sender", "recipient", "rater"]
CAPACITIES: tuple[Capacity, ...] = (
    "actor",
    "party",
    "payer",
    "author",
    "sender",
    "recipient",
    "rater",
)
# Retention categories (months per category: ledger.retention.RetentionPolicy).
Category = Literal["chat_note_file", "billing", "other"]
CATEGORIES: tuple[Category, ...] = ("chat_note_file", "billing", "other")
# Purpose of a subject key: "billing" data outlives an erasure (accounting law).
Purpose = Literal["personal", "billing"]


@dataclass(frozen=True)
class Personal:
    """A personal field: sealed with the key of the person named in capacity ``owner``."""

    owner: Capacity
    purpose: Purpose = "personal"


@dataclass(frozen=True)
class TookPart:
    """This event proves the person in ``person`` took part in its session: in the fixed
    ``role``, or in the role the event names in ``role_field``; only when the boolean
    ``only_if`` field (if any) is true."""

    person: str
    role: str | None = None
    role_field: str | None = None
    only_if: str | None = None


@dataclass(frozen=True)
class EventSpec:
    model: type[Event]
    retention: Category
    people: Mapping[str, Capacity] = field(default_factory=dict)
    personal: Mapping[str, Personal] = field(default_factory=dict)
    took_part: tuple[TookPart, ...] = ()
    shown: tuple[str, ...] = ()
    since: int = 1  # the family's schema version that introduced this type

    @property
    def event_type(self) -> str:
        return str(self.model.model_fields["event_type"].default)

    @property
    def family(self) -> str:
        return self.model.family

    @property
    def avro_branch(self) -> str:
        return self.model.avro_name()


# The envelope: every event names its actor, whose network details are personal.
ENVELOPE_PEOPLE: Mapping[str, Capacity] = MappingProxyType({"actor_id": "actor"})
ENVELOPE_PERSONAL: Mapping[str, Personal] = MappingProxyType(
    {f"network_{f}": Personal("actor") for f in ("ip", "country", "region", "city")}
)
ENVELOPE_SHOWN = (
    "occurred_at", "event_type", "actor_role", "actor_id", "device_kind", "device_os",
    "device_browser", "device_app_version", "network_ip", "network_country", "network_city",
)  # fmt: skip
# Free-text payload fields whose values come from a short list (stored LowCardinality).
CODED_FIELDS = frozenset({"currency", "media_type", "processor", "failure_code"})

_PARTICIPANT: Mapping[str, Capacity] = {"participant_id": "party"}
_BOOKING: Mapping[str, Capacity] = {"client_id": "party", "specialist_id": "party"}
_BOOKING_PROOFS = (TookPart("client_id", role="client"), TookPart("specialist_id", "specialist"))
_PAYER: Mapping[str, Capacity] = {"payer_id": "payer"}
_PAYER_DATA = {
    "payer_name": Personal("payer", "billing"),
    "payer_email": Personal("payer", "billing"),
}
_PAYMENT_SHOWN = ("amount_minor", "currency", "method", "attempt_number", "payer_name")
_JOINED = TookPart("participant_id", role_field="participant_role")

EVENTS: tuple[EventSpec, ...] = (
    # session_event
    EventSpec(
        SessionAccessAttempted, "other", _PARTICIPANT,
        took_part=(TookPart("participant_id", role_field="participant_role", only_if="granted"),),
        shown=("participant_id", "granted"),
    ),
    EventSpec(ParticipantJoined, "other", _PARTICIPANT, took_part=(_JOINED,),
              shown=("participant_id", "waiting_room_ms")),
    EventSpec(ParticipantLeft, "other", _PARTICIPANT, shown=("participant_id",)),
    EventSpec(ParticipantDisconnected, "other", _PARTICIPANT, shown=("participant_id", "reason")),
    EventSpec(
        ParticipantReconnected, "other", _PARTICIPANT, shown=("participant_id", "offline_ms")
    ),
    EventSpec(SessionCompleted, "other", _BOOKING, took_part=_BOOKING_PROOFS),
    EventSpec(NoteSaved, "chat_note_file", {"author_id": "author"},
              shown=("visibility", "size_bytes")),
    EventSpec(
        FileTransferred, "chat_note_file", {"sender_id": "sender", "recipient_id": "recipient"},
        shown=("size_bytes", "media_type"),
    ),
    EventSpec(
        ChatMessageSent, "chat_note_file", {"sender_id": "sender", "recipient_id": "recipient"},
        shown=("size_bytes", "has_attachments"),
    ),
    EventSpec(
        SessionRated, "other", {"rater_id": "rater", "specialist_id": "party"},
        shown=("service_stars",),
    ),
    EventSpec(ScreenShareStarted, "other", _PARTICIPANT, shown=("participant_id",), since=2),
    # transaction_event
    EventSpec(BookingInitiated, "billing", _BOOKING, took_part=_BOOKING_PROOFS,
              shown=("price_minor", "currency")),
    EventSpec(BookingConfirmed, "billing", _BOOKING, took_part=_BOOKING_PROOFS,
              shown=("price_minor", "currency")),
    EventSpec(BookingCancelled, "billing", _BOOKING, took_part=_BOOKING_PROOFS,
              shown=("reason",)),
    EventSpec(BookingRescheduled, "billing", _BOOKING, took_part=_BOOKING_PROOFS),
    EventSpec(PaymentAttempted, "billing", _PAYER, _PAYER_DATA, shown=_PAYMENT_SHOWN),
    EventSpec(PaymentSucceeded, "billing", _PAYER, _PAYER_DATA, shown=_PAYMENT_SHOWN),
    EventSpec(PaymentFailed, "billing", _PAYER, _PAYER_DATA,
              shown=(*_PAYMENT_SHOWN, "failure_code")),
    EventSpec(RefundIssued, "billing", shown=("amount_minor", "currency", "reason")),
)  # fmt: skip


def _check(events: tuple[EventSpec, ...]) -> None:
    """What the derived rules rely on; a mistake here stops the import, naming it."""
    capacity: dict[str, Capacity] = dict(ENVELOPE_PEOPLE)
    sealing: dict[str, Personal] = dict(ENVELOPE_PERSONAL)
    seen: set[str] = set()
    for spec in events:
        name, fields = spec.event_type, set(spec.model.model_fields)
        if name in seen:
            raise ValueError(f"event type {name} is declared twice")
        seen.add(name)
        proof_fields = {f for p in spec.took_part for f in (p.person, p.role_field, p.only_if)}
        declared = set(spec.people) | set(spec.personal) | (proof_fields - {None})
        for missing in sorted(str(f) for f in declared if f not in fields):
            raise ValueError(f"{name}: the catalogue names {missing}, the model has no such field")
        for f in spec.shown:
            if f not in fields and f not in ENVELOPE_SHOWN:
                raise ValueError(f"{name}: shown field {f} is not in the model")
        for f, cap in spec.people.items():
            if capacity.setdefault(f, cap) != cap:
                raise ValueError(f"{f} is a {capacity[f]} elsewhere, a {cap} in {name}")
        for f, how in spec.personal.items():
            if sealing.setdefault(f, how) != how:
                raise ValueError(f"{f} is sealed as {sealing[f]} elsewhere, {how} in {name}")
            owners = [p for p, cap in spec.people.items() if cap == how.owner]
            if how.owner != "actor" and len(owners) != 1:
                raise ValueError(f"{name}: {f} is the {how.owner}'s, name one {how.owner} field")
        for p in spec.took_part:
            if (p.role is None) == (p.role_field is None):
                raise ValueError(f"{name}: a took-part proof needs a role or a role field")
            if p.person not in spec.people:
                raise ValueError(f"{name}: took-part proof {p.person} names nobody")


_check(EVENTS)

BY_TYPE: Mapping[str, EventSpec] = MappingProxyType({s.event_type: s for s in EVENTS})
EVENT_TYPE_NAMES: tuple[str, ...] = tuple(BY_TYPE)


def by_capacity() -> dict[str, Capacity]:
    """Every field that names a person, with its capacity: the envelope's, then the
    payload's in capacity order (the ``subjects`` column lists them so)."""
    found: dict[str, Capacity] = dict(ENVELOPE_PEOPLE)
    payload = {f: c for spec in EVENTS for f, c in spec.people.items()}
    for cap in CAPACITIES:
        found.update({f: c for f, c in payload.items() if c == cap and f not in found})
    return found


def personal_fields() -> dict[str, Personal]:
    """Every personal field and how it is sealed (envelope first)."""
    found = dict(ENVELOPE_PERSONAL)
    for spec in EVENTS:
        found.update(spec.personal)
    return found


def owner_field(personal: Personal) -> str:
    """The field naming the person whose key seals a personal field (``actor_id`` for the
    actor's; the catalogue's check makes it one field across types)."""
    if personal.owner == "actor":
        return "actor_id"
    return next(
        f
        for spec in EVENTS
        for f, cap in spec.people.items()
        if cap == personal.owner and any(p == personal for p in spec.personal.values())
    )


def of_category(category: Category) -> tuple[str, ...]:
    return tuple(s.event_type for s in EVENTS if s.retention == category)


def shown_fields() -> tuple[str, ...]:
    """What the reader's table shows: the envelope's fields, then each type's, once."""
    shown = list(ENVELOPE_SHOWN)
    for spec in EVENTS:
        shown.extend(f for f in spec.shown if f not in shown)
    return tuple(shown)
